package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// Passkeys: the WebAuthn ceremonies run here (go-webauthn); ticketing
// keeps the credentials as bytes. A ceremony's SessionData travels in a
// short-lived cookie sealed by ticketing (purpose "webauthn") and is used
// once.

const (
	webauthnCookie  = "sd_webauthn"
	webauthnPurpose = "webauthn"
	webauthnTTL     = 5 * time.Minute
)

// ceremony is what the cookie holds between begin and finish.
type ceremony struct {
	Kind     string               `json:"k"` // "register" or "login"
	UserID   int64                `json:"u,omitempty"`
	Name     string               `json:"n,omitempty"` // the new passkey's name
	Second   bool                 `json:"s,omitempty"` // second factor of a pending session
	Next     string               `json:"x,omitempty"`
	Remember bool                 `json:"r,omitempty"`
	Session  webauthn.SessionData `json:"d"`
}

// passkeyUser is a person as go-webauthn sees them.
type passkeyUser struct {
	u      *store.User
	handle []byte
	creds  []webauthn.Credential
}

func (p *passkeyUser) WebAuthnID() []byte                         { return p.handle }
func (p *passkeyUser) WebAuthnName() string                       { return p.u.Email }
func (p *passkeyUser) WebAuthnDisplayName() string                { return p.u.Name }
func (p *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

func decodeCreds(u *store.User, handle []byte, stored []ticketing.PasskeyCred) (*passkeyUser, error) {
	p := &passkeyUser{u: u, handle: handle}
	for _, c := range stored {
		var wc webauthn.Credential
		if err := json.Unmarshal(c.Data, &wc); err != nil {
			return nil, fmt.Errorf("passkey %d: %w", c.ID, err)
		}
		p.creds = append(p.creds, wc)
	}
	return p, nil
}

func (a *accountUI) passkeyUserByID(ctx context.Context, u *store.User) (*passkeyUser, error) {
	handle, stored, err := a.svc.PasskeyUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return decodeCreds(u, handle, stored)
}

// errNoPasskeys: the public URL cannot be a relying party (an IP address).
var errNoPasskeys = httpError(http.StatusNotFound, "error.not_found")

// readJSON decodes a small JSON body.
func readJSON(r *http.Request, v any) error {
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return httpError(http.StatusBadRequest, "error.invalid")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(v)
}

// saveCeremony seals c into the cookie.
func (a *accountUI) saveCeremony(w http.ResponseWriter, c *ceremony) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: webauthnCookie, Value: a.svc.SignState(webauthnPurpose, b, webauthnTTL),
		Path: "/webauthn/", MaxAge: int(webauthnTTL.Seconds()), HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteStrictMode})
	return nil
}

// takeCeremony opens the cookie, burns it (single use) and drops it.
func (a *accountUI) takeCeremony(w http.ResponseWriter, r *http.Request, kind string) (*ceremony, error) {
	ck, err := r.Cookie(webauthnCookie)
	if err != nil {
		return nil, ticketing.ErrBadToken
	}
	http.SetCookie(w, &http.Cookie{Name: webauthnCookie, Path: "/webauthn/", MaxAge: -1, HttpOnly: true,
		Secure: a.secure, SameSite: http.SameSiteStrictMode})
	b, err := a.svc.OpenState(webauthnPurpose, ck.Value)
	if err != nil {
		return nil, err
	}
	var c ceremony
	if err := json.Unmarshal(b, &c); err != nil || c.Kind != kind {
		return nil, ticketing.ErrBadToken
	}
	if err := a.svc.UseOnce(r.Context(), webauthnPurpose, ck.Value, a.now().Add(webauthnTTL)); err != nil {
		return nil, err
	}
	return &c, nil
}

// passkeyRegisterBegin starts adding a passkey to the signed-in person.
func (a *accountUI) passkeyRegisterBegin(w http.ResponseWriter, r *http.Request) error {
	if a.wa == nil {
		return errNoPasskeys
	}
	var in struct {
		Name string `json:"name"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 100 {
		return httpError(http.StatusUnprocessableEntity, "error.invalid")
	}
	rc := ctxOf(r)
	u := rc.User
	// Asked here too, so the browser does not start a ceremony that
	// AddPasskey would refuse; the rule is ticketing's.
	if rc.Session == nil || a.svc.RequireRecentAuth(r.Context(), u, rc.Session.ID) != nil {
		return httpError(http.StatusForbidden, "profile.reauth.needed")
	}
	pu, err := a.passkeyUserByID(r.Context(), u)
	if err != nil {
		return err
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range pu.creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, sd, err := a.wa.BeginRegistration(pu,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(exclude))
	if err != nil {
		return fmt.Errorf("webauthn begin registration: %w", err)
	}
	if err := a.saveCeremony(w, &ceremony{Kind: "register", UserID: u.ID, Name: in.Name, Session: *sd}); err != nil {
		return err
	}
	return writeJSON(w, creation)
}

// passkeyRegisterFinish checks the authenticator's answer and stores the
// credential.
func (a *accountUI) passkeyRegisterFinish(w http.ResponseWriter, r *http.Request) error {
	if a.wa == nil {
		return errNoPasskeys
	}
	u := ctxOf(r).User
	c, err := a.takeCeremony(w, r, "register")
	if err != nil {
		return err
	}
	if c.UserID != u.ID {
		return ticketing.ErrBadToken
	}
	pu, err := a.passkeyUserByID(r.Context(), u)
	if err != nil {
		return err
	}
	cred, err := a.wa.FinishRegistration(pu, c.Session, r)
	if err != nil {
		a.log.Info("passkey registration refused", "request_id", ctxOf(r).ID, "err", err)
		return httpError(http.StatusBadRequest, "auth.passkey.failed")
	}
	data, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	sid := ""
	if se := ctxOf(r).Session; se != nil {
		sid = se.ID
	}
	if err := a.svc.AddPasskey(r.Context(), u, sid, c.Name, cred.ID, data); err != nil {
		if errors.Is(err, ticketing.ErrReauth) {
			return httpError(http.StatusForbidden, "profile.reauth.needed")
		}
		return err
	}
	if err := a.rotate(w, r); err != nil {
		return err
	}
	a.flash(w, r, "success", "profile.flash.passkey_added")
	return writeJSON(w, map[string]string{"redirect": "/meu-perfil#seguranca"})
}

// passkeyLoginBegin starts a sign-in: passwordless (a discoverable
// credential picks the account) or, for a pending session, its second
// factor with that person's credentials.
func (a *accountUI) passkeyLoginBegin(w http.ResponseWriter, r *http.Request) error {
	if a.wa == nil {
		return errNoPasskeys
	}
	rc := ctxOf(r)
	if rc.User != nil {
		return writeJSON(w, map[string]string{"redirect": "/dashboard"})
	}
	if !a.limit.allow("passkey", rc.IP) {
		return a.tooMany()
	}
	var in struct {
		Second   bool   `json:"second"`
		Next     string `json:"next"`
		Remember bool   `json:"remember"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	c := &ceremony{Kind: "login", Next: nextOr(in.Next, ""), Remember: in.Remember}
	var (
		assertion *protocol.CredentialAssertion
		sd        *webauthn.SessionData
		err       error
	)
	if in.Second && rc.Session != nil && rc.Session.Stage == store.StageMFA {
		pu, perr := a.passkeyUserByID(r.Context(), rc.Session.User)
		if perr != nil {
			return perr
		}
		c.Second, c.UserID = true, rc.Session.User.ID
		assertion, sd, err = a.wa.BeginLogin(pu)
	} else {
		// Alone, a passkey stands for two factors only when the
		// authenticator verified the person (PIN, biometrics), not
		// after a mere touch.
		assertion, sd, err = a.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	}
	if err != nil {
		return fmt.Errorf("webauthn begin login: %w", err)
	}
	c.Session = *sd
	if err := a.saveCeremony(w, c); err != nil {
		return err
	}
	return writeJSON(w, assertion)
}

// passkeyLoginFinish checks the assertion and signs in.
func (a *accountUI) passkeyLoginFinish(w http.ResponseWriter, r *http.Request) error {
	if a.wa == nil {
		return errNoPasskeys
	}
	rc := ctxOf(r)
	c, err := a.takeCeremony(w, r, "login")
	if err != nil {
		return err
	}
	var (
		cred    *webauthn.Credential
		pending string
	)
	if c.Second {
		if rc.Session == nil || rc.Session.Stage != store.StageMFA || rc.Session.User.ID != c.UserID {
			return ticketing.ErrBadToken
		}
		pending = sessionToken(r)
		pu, perr := a.passkeyUserByID(r.Context(), rc.Session.User)
		if perr != nil {
			return perr
		}
		cred, err = a.wa.FinishLogin(pu, c.Session, r)
	} else {
		_, cred, err = a.wa.FinishPasskeyLogin(func(rawID, handle []byte) (webauthn.User, error) {
			u, stored, err := a.svc.PasskeyUserByHandle(r.Context(), handle)
			if err != nil {
				return nil, err
			}
			return decodeCreds(u, handle, stored)
		}, c.Session, r)
	}
	if err == nil && cred.Authenticator.CloneWarning {
		// The sign count did not go up: two copies of the key exist.
		err = errors.New("sign count went back: the authenticator may be cloned")
	}
	if err != nil {
		a.log.Info("passkey sign-in refused", "request_id", rc.ID, "err", err)
		return httpError(http.StatusUnauthorized, "auth.passkey.failed")
	}
	data, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	si, err := a.svc.PasskeyLogin(r.Context(), cred.ID, data, pending, c.Remember, rc.Client)
	if err != nil {
		return err
	}
	return writeJSON(w, map[string]string{"redirect": a.afterSignIn(w, r, si, c.Next)})
}

// passkeyRemove deletes one of the person's passkeys.
func (a *accountUI) passkeyRemove(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	if err := a.svc.RemovePasskey(r.Context(), ctxOf(r).User, id); err != nil {
		return err
	}
	if err := a.rotate(w, r); err != nil {
		return err
	}
	a.flash(w, r, "success", "profile.flash.passkey_removed")
	a.redirect(w, r, "/meu-perfil#seguranca")
	return nil
}
