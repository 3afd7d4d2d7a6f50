package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"time"

	"github.com/pquerna/otp"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// The pending secret of a set-up travels in a short-lived cookie encrypted
// by ticketing (SealState: it is stored sealed and ticketing never hands
// it out again): the set-up page and its QR image read it there.
const (
	totpCookie  = "sd_totp"
	totpPurpose = "totp-setup"
	totpTTL     = 15 * time.Minute
)

type totpSetup struct {
	UserID int64  `json:"u"`
	URL    string `json:"l"` // otpauth://
}

// totpBegin makes a new pending secret and shows the set-up page.
func (a *accountUI) totpBegin(w http.ResponseWriter, r *http.Request) error {
	u := ctxOf(r).User
	_, otpURL, err := a.svc.BeginTOTP(r.Context(), u)
	if err != nil {
		return err
	}
	b, err := json.Marshal(totpSetup{UserID: u.ID, URL: otpURL})
	if err != nil {
		return err
	}
	sealed, err := a.svc.SealState(totpPurpose, b, totpTTL)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: totpCookie, Value: sealed, Path: "/meu-perfil/",
		MaxAge: int(totpTTL.Seconds()), HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteStrictMode})
	a.redirect(w, r, "/meu-perfil/totp")
	return nil
}

// pendingTOTP is the set-up under way for the signed-in person, if any.
func (a *accountUI) pendingTOTP(r *http.Request) (*otp.Key, bool) {
	u := ctxOf(r).User
	c, err := r.Cookie(totpCookie)
	if err != nil || u.TOTPEnabled {
		return nil, false
	}
	b, err := a.svc.OpenSealedState(totpPurpose, c.Value)
	if err != nil {
		return nil, false
	}
	var st totpSetup
	if json.Unmarshal(b, &st) != nil || st.UserID != u.ID {
		return nil, false
	}
	key, err := otp.NewKeyFromURL(st.URL)
	return key, err == nil
}

func clearTOTPCookie(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: totpCookie, Path: "/meu-perfil/", MaxAge: -1, HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode})
}

type totpPage struct {
	Secret string
	Error  string
}

// totpShow shows the pending secret as a QR code and as text.
func (a *accountUI) totpShow(w http.ResponseWriter, r *http.Request) error {
	key, ok := a.pendingTOTP(r)
	if !ok {
		a.redirect(w, r, "/meu-perfil#seguranca")
		return nil
	}
	return a.render(w, r, http.StatusOK, "profile_totp", totpPage{Secret: groupSecret(key.Secret())})
}

// totpQR renders the pending otpauth:// URL as a PNG, on the server (no
// script, and no third party sees the secret).
func (a *accountUI) totpQR(w http.ResponseWriter, r *http.Request) error {
	key, ok := a.pendingTOTP(r)
	if !ok {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return fmt.Errorf("totp qr: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}

// groupSecret spaces the base32 secret in fours, easier to type.
func groupSecret(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// totpEnable confirms the app with a code and shows the recovery codes,
// once.
func (a *accountUI) totpEnable(w http.ResponseWriter, r *http.Request) error {
	u := ctxOf(r).User
	code := strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("code")), " ", "")
	codes, err := a.svc.EnableTOTP(r.Context(), u, code)
	switch {
	case errors.Is(err, ticketing.ErrBadCode), errors.Is(err, ticketing.ErrInvalid):
		p := totpPage{Error: "auth.error.bad_code"}
		if key, ok := a.pendingTOTP(r); ok {
			p.Secret = groupSecret(key.Secret())
		}
		return a.render(w, r, http.StatusUnprocessableEntity, "profile_totp", p)
	case err != nil:
		return err
	}
	clearTOTPCookie(w, a.secure)
	if err := a.rotate(w, r); err != nil {
		return err
	}
	a.flash(w, r, "success", "profile.flash.totp_enabled")
	return a.showRecovery(w, r, codes)
}

// totpDisable turns the app off (the password is asked).
func (a *accountUI) totpDisable(w http.ResponseWriter, r *http.Request) error {
	err := a.svc.DisableTOTP(r.Context(), ctxOf(r).User, r.PostFormValue("password"))
	if badPassword(err) {
		return a.renderProfile(w, r, http.StatusUnprocessableEntity, map[string]string{"security": "profile.error.bad_password"})
	}
	if err != nil {
		return err
	}
	if err := a.rotate(w, r); err != nil {
		return err
	}
	a.flash(w, r, "success", "profile.flash.totp_disabled")
	a.redirect(w, r, "/meu-perfil#seguranca")
	return nil
}

// recoveryRegenerate replaces the recovery codes (the password is asked).
func (a *accountUI) recoveryRegenerate(w http.ResponseWriter, r *http.Request) error {
	codes, err := a.svc.RegenerateRecoveryCodes(r.Context(), ctxOf(r).User, r.PostFormValue("password"))
	if badPassword(err) {
		return a.renderProfile(w, r, http.StatusUnprocessableEntity, map[string]string{"security": "profile.error.bad_password"})
	}
	if err != nil {
		return err
	}
	return a.showRecovery(w, r, codes)
}

func badPassword(err error) bool {
	return errors.Is(err, ticketing.ErrBadLogin)
}

// recoveryState carries the codes to the ".txt" download, sealed and
// bound to the person, for a few minutes.
type recoveryState struct {
	UserID int64    `json:"u"`
	Codes  []string `json:"c"`
}

const recoveryPurpose = "recovery-txt"

type recoveryPage struct {
	Codes []string
	State string
}

func (a *accountUI) showRecovery(w http.ResponseWriter, r *http.Request, codes []string) error {
	b, err := json.Marshal(recoveryState{UserID: ctxOf(r).User.ID, Codes: codes})
	if err != nil {
		return err
	}
	st := a.svc.SignState(recoveryPurpose, b, 15*time.Minute)
	return a.render(w, r, http.StatusOK, "profile_recovery", recoveryPage{Codes: codes, State: st})
}

// recoveryText downloads the codes just shown as a text file.
func (a *accountUI) recoveryText(w http.ResponseWriter, r *http.Request) error {
	b, err := a.svc.OpenState(recoveryPurpose, r.PostFormValue("state"))
	if err != nil {
		return err
	}
	var st recoveryState
	if err := json.Unmarshal(b, &st); err != nil || st.UserID != ctxOf(r).User.ID {
		return httpError(http.StatusForbidden, "error.forbidden")
	}
	var out strings.Builder
	out.WriteString(a.i18n.T(ctxOf(r).Lang, "profile.recovery.file_header", nil) + "\r\n\r\n")
	for _, c := range st.Codes {
		out.WriteString(c + "\r\n")
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="servicedesk-recovery-codes.txt"`)
	h.Set("Cache-Control", "no-store")
	_, err = w.Write([]byte(out.String()))
	return err
}

// emailOTPSave turns the e-mail code on or off (off asks for the
// password).
func (a *accountUI) emailOTPSave(w http.ResponseWriter, r *http.Request) error {
	on := r.PostFormValue("on") == "1"
	err := a.svc.SetEmailOTP(r.Context(), ctxOf(r).User, on, r.PostFormValue("password"))
	if badPassword(err) {
		return a.renderProfile(w, r, http.StatusUnprocessableEntity, map[string]string{"security": "profile.error.bad_password"})
	}
	if err != nil {
		return err
	}
	if err := a.rotate(w, r); err != nil {
		return err
	}
	key := "profile.flash.email_otp_off"
	if on {
		key = "profile.flash.email_otp_on"
	}
	a.flash(w, r, "success", key)
	a.redirect(w, r, "/meu-perfil#seguranca")
	return nil
}

// identityConfirm is POST /meu-perfil/confirmar: the current password (or,
// without one, an authenticator code) again, so this session may add a
// passkey for the next few minutes.
func (a *accountUI) identityConfirm(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	if rc.Session == nil {
		return httpError(http.StatusForbidden, "error.forbidden")
	}
	err := a.svc.ConfirmIdentity(r.Context(), rc.User, rc.Session.ID, r.PostFormValue("secret"))
	switch {
	case badPassword(err):
		return a.renderProfile(w, r, http.StatusUnprocessableEntity, map[string]string{"security": "profile.error.bad_password"})
	case errors.Is(err, ticketing.ErrBadCode):
		return a.renderProfile(w, r, http.StatusUnprocessableEntity, map[string]string{"security": "profile.reauth.bad_code"})
	case errors.Is(err, ticketing.ErrReauth):
		return a.renderProfile(w, r, http.StatusForbidden, map[string]string{"security": "profile.reauth.sign_in_again"})
	case errors.Is(err, ticketing.ErrNotAllowed):
		return a.renderProfile(w, r, http.StatusForbidden, map[string]string{"security": "profile.reauth.sign_in_again"})
	case err != nil:
		return err
	}
	a.flash(w, r, "success", "profile.reauth.done")
	a.redirect(w, r, "/meu-perfil#seguranca")
	return nil
}
