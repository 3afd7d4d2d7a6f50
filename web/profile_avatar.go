package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// maxAvatarUpload bounds the picture people upload (it is kept as a
// 128×128 PNG).
const maxAvatarUpload = 2 << 20

// profileAvatar stores an uploaded picture.
func (a *accountUI) profileAvatar(w http.ResponseWriter, r *http.Request) error {
	f, hdr, err := r.FormFile("avatar")
	if err != nil {
		return a.renderProfile(w, r, http.StatusUnprocessableEntity, map[string]string{"avatar": "profile.error.avatar_bad"})
	}
	defer f.Close()
	if hdr.Size > maxAvatarUpload {
		return a.renderProfile(w, r, http.StatusRequestEntityTooLarge, map[string]string{"avatar": "profile.error.avatar_too_big"})
	}
	data, err := io.ReadAll(io.LimitReader(f, maxAvatarUpload+1))
	if err != nil {
		return err
	}
	if len(data) > maxAvatarUpload {
		return a.renderProfile(w, r, http.StatusRequestEntityTooLarge, map[string]string{"avatar": "profile.error.avatar_too_big"})
	}
	if err := a.svc.SetAvatar(r.Context(), ctxOf(r).User, data); err != nil {
		if errors.Is(err, ticketing.ErrInvalid) {
			return a.renderProfile(w, r, http.StatusUnprocessableEntity, map[string]string{"avatar": "profile.error.avatar_bad"})
		}
		return err
	}
	a.flash(w, r, "success", "profile.flash.avatar_saved")
	a.redirect(w, r, "/meu-perfil#avatar")
	return nil
}

// avatar serves a user's picture to whoever ticketing lets see it.
func (a *accountUI) avatar(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	data, ctype, err := a.svc.Avatar(r.Context(), ctxOf(r).User, id)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	_, err = w.Write(data)
	return err
}
