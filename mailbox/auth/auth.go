// Package auth decides whether an inbound message really comes from the
// domain in its From header: DKIM signatures (go-msgauth), SPF for the
// SMTP client (blitiri.com.ar/go/spf), DMARC alignment of either with the
// From domain, and the Authentication-Results of one configured trusted
// receiving host. It knows nothing of tickets: the intake turns a Result
// into what a sender may do.
package auth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

// Result values, as in Authentication-Results (RFC 8601).
const (
	Pass      = "pass"
	Fail      = "fail"
	SoftFail  = "softfail"
	Neutral   = "neutral"
	None      = "none"
	TempError = "temperror"
	PermError = "permerror"
)

// Defaults used when the matching Config field is zero.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultMaxSignatures = 5
)

// Config configures a Verifier.
type Config struct {
	// TrustedAuthServID (mail.trusted_authserv_id) names the receiving
	// host whose Authentication-Results headers are believed: only the
	// topmost ones it added count (see trustedResults).
	TrustedAuthServID string
	// OwnAuthServID is the name our own results go under (the SMTP host
	// name). Headers under it in the input were written by someone else
	// and are ignored, even when it equals TrustedAuthServID.
	OwnAuthServID string
	Timeout       time.Duration // bound on all DNS work for one message
	MaxSignatures int           // DKIM signatures checked per message
}

// Verifier checks messages. It is safe for concurrent use.
type Verifier struct {
	cfg Config
	r   Resolver
	log *slog.Logger
}

// New returns a Verifier that asks r.
func New(cfg Config, r Resolver, log *slog.Logger) *Verifier {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxSignatures <= 0 {
		cfg.MaxSignatures = DefaultMaxSignatures
	}
	if log == nil {
		log = slog.Default()
	}
	return &Verifier{cfg: cfg, r: r, log: log.With("component", "auth")}
}

// DKIMResult is the outcome of one signature.
type DKIMResult struct {
	Domain  string // d=
	Result  string // pass, fail, permerror, temperror
	Reason  string
	Aligned bool // Domain aligns with the From domain (per adkim)
	Trusted bool // reported by the trusted host, not checked here
}

// SPFResult is the outcome of the SPF check of the SMTP client.
type SPFResult struct {
	Result   string // pass, fail, softfail, neutral, none, temperror, permerror; "" when not checked
	Identity string // "mailfrom" or "helo"
	Domain   string // the domain checked
	Aligned  bool   // Domain aligns with the From domain (per aspf)
	Trusted  bool
}

// DMARCResult is the From domain's policy and whether the message meets it.
type DMARCResult struct {
	Result string // pass, fail, none (no record), temperror, permerror
	Policy string // none, quarantine, reject; "" without a record
	ADKIM  string // r or s
	ASPF   string
	Domain string // where the record was found
}

// Result is what Verify found.
type Result struct {
	FromDomain string
	OrgDomain  string // the From domain's organizational domain
	DKIM       []DKIMResult
	SPF        SPFResult
	DMARC      DMARCResult
	// Aligned: a DKIM or SPF pass aligned with the From domain.
	Aligned bool
	// Definite: the domain's owner says this mail is not theirs (a DMARC
	// fail under quarantine/reject with SPF checked, an aligned SPF hard
	// fail, or the trusted host's dmarc=fail), with no aligned pass and no
	// DNS error in the way.
	Definite bool
	// Temporary: no aligned pass, and a DNS error kept the answer from
	// being known; ask again later.
	Temporary bool
}

// Verdicts for storing and showing.
const (
	VerdictPass      = "pass"
	VerdictFail      = "fail"
	VerdictNone      = "none"
	VerdictTemporary = "temperror"
)

// Verdict is the one-word outcome: pass, fail, temperror or none.
func (r Result) Verdict() string {
	switch {
	case r.Aligned:
		return VerdictPass
	case r.Definite:
		return VerdictFail
	case r.Temporary:
		return VerdictTemporary
	}
	return VerdictNone
}

// Summary is the result in Authentication-Results form (without the
// authserv-id), for the message record and for people.
func (r Result) Summary() string {
	var parts []string
	for _, d := range r.DKIM {
		p := "dkim=" + d.Result + " header.d=" + d.Domain
		if d.Trusted {
			p += " (trusted host)"
		}
		parts = append(parts, p)
	}
	if len(r.DKIM) == 0 {
		parts = append(parts, "dkim=none")
	}
	if r.SPF.Result != "" {
		p := "spf=" + r.SPF.Result
		if r.SPF.Domain != "" {
			p += " smtp." + r.SPF.Identity + "=" + r.SPF.Domain
		}
		if r.SPF.Trusted {
			p += " (trusted host)"
		}
		parts = append(parts, p)
	}
	p := "dmarc=" + r.DMARC.Result
	if r.DMARC.Policy != "" {
		p += " policy=" + r.DMARC.Policy
	}
	parts = append(parts, p+" header.from="+r.FromDomain)
	return strings.Join(parts, "; ")
}

// Verify checks raw (as received) against the From domain the parser
// found. env supplies the SMTP client for SPF; mail from IMAP and the pipe
// has none and relies on DKIM and the trusted host's results.
func (v *Verifier) Verify(ctx context.Context, env delivery.Envelope, raw []byte, fromDomain string) Result {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	fromDomain = normDomain(fromDomain)
	res := Result{FromDomain: fromDomain, OrgDomain: OrgDomain(fromDomain)}
	if fromDomain == "" {
		res.DMARC.Result = None
		return res
	}
	var temp bool
	res.DMARC, temp = v.dmarc(ctx, fromDomain)

	res.DKIM, temp = v.dkim(ctx, raw, res, temp)
	res.SPF, temp = v.spf(ctx, env, res, temp)
	trustedDMARCFail := false
	if hdr, err := readHeader(raw); err == nil {
		var tr []DKIMResult
		var tspf *SPFResult
		tr, tspf, trustedDMARCFail = v.trusted(hdr, res)
		res.DKIM = append(res.DKIM, tr...)
		if tspf != nil && (res.SPF.Result == "" || tspf.Result == Pass) {
			res.SPF = *tspf
		}
	}

	for _, d := range res.DKIM {
		res.Aligned = res.Aligned || (d.Result == Pass && d.Aligned)
	}
	res.Aligned = res.Aligned || (res.SPF.Result == Pass && res.SPF.Aligned)
	switch {
	case res.DMARC.Result == TempError:
	case res.Aligned && res.DMARC.Policy != "":
		res.DMARC.Result = Pass
	case res.DMARC.Policy != "":
		res.DMARC.Result = Fail
	}
	if res.Aligned {
		return res
	}
	if temp {
		res.Temporary = true
		return res
	}
	enforced := res.DMARC.Policy == "quarantine" || res.DMARC.Policy == "reject"
	spfFail := res.SPF.Result == Fail && alignsRelaxed(res.SPF.Domain, fromDomain)
	// DMARC fails when neither DKIM nor SPF passes aligned; without an
	// SPF result (IMAP, the pipe, and no trusted host saying) half of that
	// is unknown, so it is no verdict.
	spfKnown := res.SPF.Result != ""
	res.Definite = (res.DMARC.Result == Fail && enforced && spfKnown) || spfFail || trustedDMARCFail
	return res
}

// dmarc finds the From domain's policy: its own record, else its
// organizational domain's (whose sp= then applies).
func (v *Verifier) dmarc(ctx context.Context, domain string) (DMARCResult, bool) {
	out := DMARCResult{Result: None, ADKIM: "r", ASPF: "r"}
	lookup := &dmarc.LookupOptions{LookupTXT: v.txt(ctx)}
	rec, err := dmarc.LookupWithOptions(domain, lookup)
	found := domain
	org := OrgDomain(domain)
	if errors.Is(err, dmarc.ErrNoPolicy) && org != domain {
		found = org
		rec, err = dmarc.LookupWithOptions(org, lookup)
	}
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		return out, false
	case dmarc.IsTempFail(err):
		out.Result = TempError
		return out, true
	case err != nil:
		// A broken record is no policy (RFC 7489 6.6.3).
		out.Result = PermError
		return out, false
	}
	out.Domain = found
	out.Policy = string(rec.Policy)
	if found != domain && rec.SubdomainPolicy != "" {
		out.Policy = string(rec.SubdomainPolicy)
	}
	if rec.DKIMAlignment == dmarc.AlignmentStrict {
		out.ADKIM = "s"
	}
	if rec.SPFAlignment == dmarc.AlignmentStrict {
		out.ASPF = "s"
	}
	return out, false
}

func (v *Verifier) dkim(ctx context.Context, raw []byte, res Result, temp bool) ([]DKIMResult, bool) {
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: v.txt(ctx), MaxVerifications: v.cfg.MaxSignatures,
	})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		v.log.Debug("dkim: message unreadable", "err", err)
		return nil, temp
	}
	var out []DKIMResult
	for _, vf := range verifs {
		d := DKIMResult{Domain: normDomain(vf.Domain), Result: Pass}
		d.Aligned = aligns(d.Domain, res.FromDomain, res.DMARC.ADKIM)
		switch e := vf.Err; {
		case e == nil:
		case dkim.IsTempFail(e):
			d.Result, d.Reason = TempError, e.Error()
			temp = temp || d.Aligned
		case dkim.IsPermFail(e):
			d.Result, d.Reason = PermError, e.Error()
		default:
			d.Result, d.Reason = Fail, e.Error()
		}
		out = append(out, d)
	}
	return out, temp
}

func (v *Verifier) spf(ctx context.Context, env delivery.Envelope, res Result, temp bool) (SPFResult, bool) {
	if env.Source != delivery.SourceSMTP || env.ClientIP == nil {
		return SPFResult{}, temp
	}
	out := SPFResult{Identity: "mailfrom"}
	sender := env.MailFrom
	if _, d, ok := strings.Cut(sender, "@"); ok && d != "" {
		out.Domain = normDomain(d)
	} else {
		// The null sender: RFC 7208 2.4 checks the HELO identity.
		out.Identity, out.Domain = "helo", normDomain(env.Helo)
		sender = "postmaster@" + out.Domain
	}
	if out.Domain == "" {
		out.Result = None
		return out, temp
	}
	r, err := spf.CheckHostWithSender(env.ClientIP, normDomain(env.Helo), sender,
		spf.WithContext(ctx), spf.WithResolver(v.r))
	out.Result = string(r)
	if err != nil {
		v.log.Debug("spf", "domain", out.Domain, "result", r, "err", err)
	}
	out.Aligned = aligns(out.Domain, res.FromDomain, res.DMARC.ASPF)
	if r == spf.TempError && out.Aligned {
		temp = true
	}
	return out, temp
}

// trusted reads the trusted host's Authentication-Results: the headers
// under TrustedAuthServID above the first Received header that follows
// one of them. Those further down were in the message before the trusted
// host got it (a forger can write any header), and headers under our own
// id are someone else's words.
func (v *Verifier) trusted(h textproto.Header, res Result) (dk []DKIMResult, sp *SPFResult, dmarcFail bool) {
	id := strings.ToLower(strings.TrimSpace(v.cfg.TrustedAuthServID))
	if id == "" {
		return nil, nil, false
	}
	own := strings.ToLower(strings.TrimSpace(v.cfg.OwnAuthServID))
	seen := false
	for f := h.Fields(); f.Next(); {
		switch strings.ToLower(f.Key()) {
		case "received":
			if seen {
				return dk, sp, dmarcFail
			}
			continue
		case "authentication-results":
		default:
			continue
		}
		ident, results, err := authres.Parse(f.Value())
		ident = strings.ToLower(ident)
		if err != nil || ident != id || ident == own {
			continue
		}
		seen = true
		for _, r := range results {
			switch r := r.(type) {
			case *authres.DKIMResult:
				d := normDomain(r.Domain)
				dk = append(dk, DKIMResult{Domain: d, Result: string(r.Value), Reason: r.Reason, Trusted: true,
					Aligned: aligns(d, res.FromDomain, res.DMARC.ADKIM)})
			case *authres.SPFResult:
				d := r.From
				ident := "mailfrom"
				if _, dom, ok := strings.Cut(d, "@"); ok {
					d = dom
				}
				if d == "" {
					d, ident = r.Helo, "helo"
				}
				d = normDomain(d)
				sp = &SPFResult{Result: string(r.Value), Identity: ident, Domain: d, Trusted: true,
					Aligned: aligns(d, res.FromDomain, res.DMARC.ASPF)}
			case *authres.DMARCResult:
				if r.Value == authres.ResultFail && (r.From == "" || normDomain(r.From) == res.FromDomain) {
					dmarcFail = true
				}
			}
		}
	}
	return dk, sp, dmarcFail
}

// txt adapts the resolver to go-msgauth's context-free lookups.
func (v *Verifier) txt(ctx context.Context) func(string) ([]string, error) {
	return func(name string) ([]string, error) {
		return v.r.LookupTXT(ctx, name)
	}
}

func readHeader(raw []byte) (textproto.Header, error) {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return h, fmt.Errorf("auth: header: %w", err)
	}
	return h, nil
}

// OrgDomain is domain's organizational domain (RFC 7489 3.2): one label
// below its public suffix. A public suffix itself is returned unchanged.
func OrgDomain(domain string) string {
	domain = normDomain(domain)
	if domain == "" {
		return ""
	}
	org, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if err != nil {
		return domain
	}
	return org
}

// aligns reports DMARC identifier alignment: strict ("s") wants the same
// name, relaxed the same organizational domain.
func aligns(d, from, mode string) bool {
	if d == "" || from == "" {
		return false
	}
	if mode == "s" {
		return d == from
	}
	return alignsRelaxed(d, from)
}

func alignsRelaxed(d, from string) bool {
	return d != "" && from != "" && OrgDomain(d) == OrgDomain(from)
}

func normDomain(d string) string {
	d = strings.ToLower(strings.TrimSpace(d))
	d = strings.TrimSuffix(d, ".")
	if strings.HasPrefix(d, "[") || net.ParseIP(d) != nil {
		return ""
	}
	return d
}
