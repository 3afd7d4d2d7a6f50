package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// profilePage is /meu-perfil: every section on one page, each its own form.
type profilePage struct {
	User        *store.User
	Zone        string   // the user's own zone, "" = the company's
	DefaultZone string   // what "" means for them
	Zones       []string // the choices
	HasPassword bool
	HasAvatar   bool
	MustChange  bool
	Notices     []noticeChoice
	TwoFactor   ticketing.TwoFactorState
	Passkeys    []ticketing.PasskeyCred
	// RecentAuth: this session proved who its person is within
	// ticketing.RecentAuthWindow, so a passkey may be added; else the page
	// asks for the password (or an app code) first.
	RecentAuth bool
	Sessions   []sessionRow
	Errs       map[string]string // section or field -> i18n key
}

type noticeChoice struct {
	Kind string
	On   bool
}

type sessionRow struct {
	ID, IP, Browser, OS   string
	CreatedAt, LastUsedAt time.Time
	Current               bool
}

// commonZones: Brazil's first (São Paulo at the top), then the usual
// others; a zone set elsewhere (CLI) is added when missing.
var commonZones = []string{
	"America/Sao_Paulo", "America/Bahia", "America/Fortaleza", "America/Recife", "America/Belem", "America/Maceio",
	"America/Araguaina", "America/Manaus", "America/Cuiaba", "America/Campo_Grande", "America/Porto_Velho",
	"America/Boa_Vista", "America/Rio_Branco", "America/Noronha",
	"UTC", "America/Argentina/Buenos_Aires", "America/Montevideo", "America/Santiago", "America/Asuncion",
	"America/Bogota", "America/Lima", "America/Mexico_City", "America/New_York", "America/Chicago",
	"America/Denver", "America/Los_Angeles", "Europe/Lisbon", "Europe/London", "Europe/Madrid", "Europe/Paris",
	"Europe/Berlin", "Africa/Luanda", "Africa/Maputo", "Asia/Tokyo", "Australia/Sydney",
}

func (a *accountUI) profileShow(w http.ResponseWriter, r *http.Request) error {
	return a.renderProfile(w, r, http.StatusOK, nil)
}

// renderProfile renders the page, with errs on the sections that failed.
func (a *accountUI) renderProfile(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) error {
	rc := ctxOf(r)
	u := rc.User
	ctx := r.Context()
	p := profilePage{User: u, Zone: u.TimeZone, HasPassword: u.PasswordHash != "", HasAvatar: u.AvatarType != "",
		MustChange: u.MustChangePassword || (rc.Session != nil && rc.Session.MustChangePassword), Errs: errs}
	p.DefaultZone = a.cfg.Timezone
	if rc.Company != nil && rc.Company.TimeZone != "" {
		p.DefaultZone = rc.Company.TimeZone
	}
	p.Zones = commonZones
	if p.Zone != "" && !slices.Contains(p.Zones, p.Zone) {
		p.Zones = append([]string{p.Zone}, p.Zones...)
	}
	for _, k := range ticketing.NoticeKinds {
		if !u.IsStaff() && !clientNotice(k) {
			continue
		}
		p.Notices = append(p.Notices, noticeChoice{Kind: k, On: ticketing.WantsNotice(u, k)})
	}
	var err error
	if p.TwoFactor, err = a.svc.TwoFactor(ctx, u); err != nil {
		return err
	}
	if _, p.Passkeys, err = a.svc.PasskeyUser(ctx, u.ID); err != nil {
		return err
	}
	if rc.Session != nil {
		p.RecentAuth = a.svc.RequireRecentAuth(ctx, u, rc.Session.ID) == nil
	}
	sessions, err := a.svc.Sessions(ctx, u, u.Email)
	if err != nil {
		return err
	}
	for _, si := range sessions {
		browser, os := parseUA(si.UserAgent)
		p.Sessions = append(p.Sessions, sessionRow{ID: si.ID, IP: si.IP, Browser: browser, OS: os,
			CreatedAt: si.CreatedAt, LastUsedAt: si.LastUsedAt, Current: rc.Session != nil && si.ID == rc.Session.ID})
	}
	// This session first, then the most recently used.
	slices.SortStableFunc(p.Sessions, func(x, y sessionRow) int {
		if x.Current != y.Current {
			if x.Current {
				return -1
			}
			return 1
		}
		return y.LastUsedAt.Compare(x.LastUsedAt)
	})
	return a.render(w, r, status, "profile", p)
}

// clientNotice: the notices a requester can get (the rest go to staff).
func clientNotice(kind string) bool {
	switch kind {
	case ticketing.NoticeAck, ticketing.NoticeCommented, ticketing.NoticeStatusChanged, ticketing.NoticeResolved,
		ticketing.NoticeClosed, ticketing.NoticeReopened, ticketing.NoticeParticipantAdded:
		return true
	}
	return false
}

// parseUA names the browser and system of a User-Agent, roughly: enough
// for a person to recognise their own devices in the sessions list.
func parseUA(ua string) (browser, os string) {
	browser, os = "?", "?"
	switch {
	case strings.Contains(ua, "Edg/"):
		browser = "Edge"
	case strings.Contains(ua, "OPR/"), strings.Contains(ua, "Opera"):
		browser = "Opera"
	case strings.Contains(ua, "Firefox/"):
		browser = "Firefox"
	case strings.Contains(ua, "Chrome/"), strings.Contains(ua, "Chromium/"), strings.Contains(ua, "CriOS/"):
		browser = "Chrome"
	case strings.Contains(ua, "Safari/"):
		browser = "Safari"
	case strings.HasPrefix(ua, "curl/"):
		browser = "curl"
	case strings.HasPrefix(ua, "Go-http-client"):
		browser = "Go"
	}
	switch {
	case strings.Contains(ua, "Android"):
		os = "Android"
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"):
		os = "iOS"
	case strings.Contains(ua, "Windows"):
		os = "Windows"
	case strings.Contains(ua, "Mac OS X"), strings.Contains(ua, "Macintosh"):
		os = "macOS"
	case strings.Contains(ua, "CrOS"):
		os = "ChromeOS"
	case strings.Contains(ua, "Linux"):
		os = "Linux"
	}
	return browser, os
}
