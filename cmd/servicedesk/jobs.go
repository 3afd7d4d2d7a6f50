package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// jobService is what the scheduler runs: the same functions as `sla
// check` and `retention run`, so cron and serve share code and lease.
type jobService interface {
	CheckSLA(ctx context.Context, actor *store.User, o ticketing.SLACheckOptions) (*ticketing.SLACheckReport, error)
	RunRetention(ctx context.Context, actor *store.User, o ticketing.RetentionOptions) (*ticketing.RetentionReport, error)
}

// jobs is serve's scheduler component: with jobs.enabled it runs sla check
// every jobs.sla_check_interval and retention daily at jobs.retention_at
// in the configured time zone, as the system actor. A run that finds the
// job's lease held (cron, or another serve on the same PostgreSQL, got
// there first) is skipped until the next tick, so several processes run
// each job once.
type jobs struct {
	svc       jobService
	cfg       configs.JobsConfig
	retention ticketing.RetentionOptions
	loc       *time.Location
	log       *slog.Logger

	now   func() time.Time                     // time.Now; tests move the day
	onRun func(job string, rep any, err error) // tests: told after every run
}

// newJobs builds the scheduler from the app's configuration and service.
func newJobs(a *app) *jobs {
	return &jobs{svc: a.svc, cfg: a.cfg.Jobs, retention: retentionOptions(a.cfg), loc: a.cfg.Location(),
		log: a.log.With("component", "jobs")}
}

// Run runs the jobs until ctx ends; it returns nil then. Job failures are
// logged, never fatal to serve.
func (j *jobs) Run(ctx context.Context) error {
	if !j.cfg.Enabled {
		<-ctx.Done()
		return nil
	}
	if j.now == nil {
		j.now = time.Now
	}
	hour, minute, err := configs.ParseTimeOfDay(j.cfg.RetentionAt)
	if err != nil {
		return err
	}
	j.log.Info("jobs scheduled", "sla_check_interval", j.cfg.SLACheckInterval, "retention_at", j.cfg.RetentionAt, "time_zone", j.loc.String())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		j.every(ctx, "sla_check", func(time.Time) time.Duration { return j.cfg.SLACheckInterval }, true, j.checkSLA)
	}()
	go func() {
		defer wg.Done()
		j.every(ctx, "retention", func(now time.Time) time.Duration {
			return nextDaily(now, hour, minute, j.loc).Sub(now)
		}, false, j.runRetention)
	}()
	wg.Wait()
	return nil
}

// every runs fn (at once when first) and then after each wait(now), until
// ctx ends. A run in progress finishes its batch before stopping.
func (j *jobs) every(ctx context.Context, name string, wait func(time.Time) time.Duration, first bool, fn func(context.Context) (any, error)) {
	for {
		if first {
			rep, err := fn(ctx)
			j.report(ctx, name, rep, err)
		}
		first = true
		t := time.NewTimer(wait(j.now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (j *jobs) report(ctx context.Context, name string, rep any, err error) {
	switch {
	case err == nil:
		j.log.Debug("job ran", "job", name, "report", rep)
	case errors.Is(err, ticketing.ErrJobRunning):
		j.log.Debug("job skipped: another run holds the lease", "job", name)
	case ctx.Err() != nil:
		j.log.Info("job stopped at shutdown", "job", name, "err", err)
	default:
		j.log.Error("job failed", "job", name, "err", err)
	}
	if j.onRun != nil {
		j.onRun(name, rep, err)
	}
}

func (j *jobs) checkSLA(ctx context.Context) (any, error) {
	rep, err := j.svc.CheckSLA(ctx, ticketing.SystemActor(), ticketing.SLACheckOptions{})
	if err != nil {
		return nil, err
	}
	if rep.Warnings > 0 || rep.Breaches > 0 {
		j.log.Info("sla check", "checked", rep.Checked, "warnings", rep.Warnings, "breaches", rep.Breaches)
	}
	return rep, nil
}

func (j *jobs) runRetention(ctx context.Context) (any, error) {
	rep, err := j.svc.RunRetention(ctx, ticketing.SystemActor(), j.retention)
	if err != nil {
		return nil, err
	}
	j.log.Info("retention", "tickets", rep.Total.Tickets, "audit_deleted", rep.Audit,
		"quarantine_deleted", rep.Quarantine, "outbox_sent_deleted", rep.OutboxSent,
		"notifications_read_deleted", rep.NotificationsRead, "notifications_unread_deleted", rep.NotificationsUnread)
	return rep, nil
}

// nextDaily is the first hour:minute in loc strictly after now, built
// from the wall clock so a DST change moves the instant, not the time of
// day. A wall time that DST skips that day runs when the clocks show it
// an hour later (02:30 on a spring-forward night runs at 03:30).
func nextDaily(now time.Time, hour, minute int, loc *time.Location) time.Time {
	l := now.In(loc)
	on := func(day int) time.Time {
		t := time.Date(l.Year(), l.Month(), day, hour, minute, 0, 0, loc)
		if t.Hour() != hour {
			t = t.Add(time.Hour)
		}
		return t
	}
	at := on(l.Day())
	if !at.After(now) {
		at = on(l.Day() + 1)
	}
	return at
}
