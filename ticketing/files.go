package ticketing

import (
	"context"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/jcservicedesk/servicedesk/store"
)

// FileInput is an attachment uploaded with a new ticket or a comment
// (portal, CLI). The front door checks size and type against the
// configuration; here the name is cleaned and the file stored with the
// ticket in the same transaction.
type FileInput struct {
	Name        string
	ContentType string
	Data        []byte
}

const maxFileName = 200

// CleanFileName keeps the last path element of name, without control
// characters, at most 200 characters; "" becomes "arquivo".
func CleanFileName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(strings.TrimSpace(name))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" || name == ".." {
		name = ""
	}
	if utf8.RuneCountInString(name) > maxFileName {
		name = string([]rune(name)[:maxFileName])
	}
	if name == "" {
		name = "arquivo"
	}
	return name
}

// addFiles stores files on ticket t, tied to comment (nil: the opening
// message). An internal comment's files are internal with it: the store
// filters attachments by their comment's flag.
func (tx *Tx) addFiles(ctx context.Context, actor *store.User, t *store.Ticket, comment *int64, files []FileInput) error {
	for _, f := range files {
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		a := &store.Attachment{TicketID: t.ID, CommentID: comment, Filename: CleanFileName(f.Name), ContentType: ct}
		if actor != nil && actor.ID > 0 {
			id := actor.ID
			a.UploadedBy = &id
		}
		if err := tx.q.AddAttachment(ctx, a, f.Data); err != nil {
			return err
		}
		if err := tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "attach", nil,
			map[string]any{"attachment_id": a.ID, "filename": a.Filename, "size": a.Size, "comment_id": comment}); err != nil {
			return err
		}
	}
	return nil
}
