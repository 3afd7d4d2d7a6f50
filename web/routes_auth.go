package web

import "net/http"

// authRoutes registers sign-in, registration, 2FA and the profile.
// Helper authweb owns this file; webcore does not edit it.
func (s *Server) authRoutes(mux *http.ServeMux) {
	a := newAccountUI(s)

	// Sign-in. Mailed links (sign-in link, confirmation) show a button on
	// GET and act on POST: mail scanners fetch links.
	s.handle(mux, "GET /login", anonymous, a.loginShow)
	s.handle(mux, "POST /login", anonymous, a.loginCheck)
	s.handle(mux, "POST /login/link", anonymous, a.linkSend)
	s.handle(mux, "GET /login/link/{token}", anonymous, a.linkShow)
	s.handle(mux, "POST /login/link/{token}", anonymous, a.linkUse)
	s.handle(mux, "GET /otp", pending, a.otpShow)
	s.handle(mux, "POST /otp", pending, a.otpCheck)
	s.handle(mux, "POST /otp/send", pending, a.otpSend)
	s.handle(mux, "GET /logout", public, a.logoutShow)
	s.handle(mux, "POST /logout", public, a.logout)

	// Accounts.
	s.handle(mux, "GET /register", anonymous, a.registerShow)
	s.handle(mux, "POST /register", anonymous, a.registerSave)
	s.handle(mux, "GET /confirm/{token}", public, a.confirmShow)
	s.handle(mux, "POST /confirm/{token}", public, a.confirm)
	s.handle(mux, "GET /resend-confirmation", public, a.resendShow)
	s.handle(mux, "POST /resend-confirmation", public, a.resend)
	s.handle(mux, "GET /forgot", anonymous, a.forgotShow)
	s.handle(mux, "POST /forgot", anonymous, a.forgot)
	s.handle(mux, "GET /reset/{token}", public, a.resetShow)
	s.handle(mux, "POST /reset/{token}", public, a.reset)

	// The paths the old README documented.
	for _, p := range []string{"login", "register", "forgot", "otp", "logout"} {
		mux.HandleFunc("/auth/"+p, oldPath("/"+p))
	}
	mux.HandleFunc("/auth/reset/{token}", func(w http.ResponseWriter, r *http.Request) {
		oldPath("/reset/"+r.PathValue("token"))(w, r)
	})

	// Passkeys (JSON, X-CSRF-Token).
	s.handle(mux, "POST /webauthn/register/begin", signedIn, a.passkeyRegisterBegin)
	s.handle(mux, "POST /webauthn/register/finish", signedIn, a.passkeyRegisterFinish)
	s.handle(mux, "POST /webauthn/login/begin", public, a.passkeyLoginBegin)
	s.handle(mux, "POST /webauthn/login/finish", public, a.passkeyLoginFinish)

	// The profile.
	s.handle(mux, "GET /meu-perfil", signedIn, a.profileShow)
	s.handle(mux, "POST /meu-perfil", signedIn, a.profileSave)
	s.handle(mux, "POST /meu-perfil/senha", signedIn, a.profilePassword)
	s.handle(mux, "POST /meu-perfil/avatar", signedIn, a.profileAvatar)
	s.handle(mux, "POST /meu-perfil/notificacoes", signedIn, a.profileNotices)
	s.handle(mux, "POST /meu-perfil/totp", signedIn, a.totpBegin)
	s.handle(mux, "GET /meu-perfil/totp", signedIn, a.totpShow)
	s.handle(mux, "GET /meu-perfil/totp.png", signedIn, a.totpQR)
	s.handle(mux, "POST /meu-perfil/totp/ativar", signedIn, a.totpEnable)
	s.handle(mux, "POST /meu-perfil/totp/desativar", signedIn, a.totpDisable)
	s.handle(mux, "POST /meu-perfil/recuperacao", signedIn, a.recoveryRegenerate)
	s.handle(mux, "POST /meu-perfil/recuperacao.txt", signedIn, a.recoveryText)
	s.handle(mux, "POST /meu-perfil/codigo-email", signedIn, a.emailOTPSave)
	s.handle(mux, "POST /meu-perfil/passkeys/{id}/remover", signedIn, a.passkeyRemove)
	s.handle(mux, "POST /meu-perfil/confirmar", signedIn, a.identityConfirm)
	s.handle(mux, "POST /meu-perfil/sessoes/{id}/encerrar", signedIn, a.sessionEnd)
	s.handle(mux, "POST /meu-perfil/sessoes/encerrar-outras", signedIn, a.sessionEndOthers)
	s.handle(mux, "GET /meu-perfil/dados.json", signedIn, a.dataExport)
	s.handle(mux, "POST /meu-perfil/dados/apagar", signedIn, a.dataErasure)
	s.handle(mux, "GET /avatar/{id}", signedIn, a.avatar)
}

// oldPath redirects an old README path to the new one: 308 for reads,
// 307 for posts (both keep the method and body).
func oldPath(to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		dest := to
		if r.URL.RawQuery != "" {
			dest += "?" + r.URL.RawQuery
		}
		code := http.StatusPermanentRedirect
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			code = http.StatusTemporaryRedirect
		}
		http.Redirect(w, r, dest, code)
	}
}
