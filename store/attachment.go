package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Attachment is a file on a ticket. Its bytes live once per distinct
// content in blobs, keyed by SHA-256.
type Attachment struct {
	bun.BaseModel `bun:"table:attachments,alias:at"`

	ID          int64     `bun:"id,pk,autoincrement" json:"id"`
	TicketID    int64     `bun:"ticket_id,notnull" json:"ticket_id"`
	CommentID   *int64    `bun:"comment_id" json:"comment_id"`
	Filename    string    `bun:"filename,notnull" json:"filename"`
	ContentType string    `bun:"content_type,notnull" json:"content_type"`
	ContentID   string    `bun:"content_id,notnull" json:"content_id,omitempty"`
	Inline      bool      `bun:"inline,notnull" json:"inline"`
	Size        int64     `bun:"size,notnull" json:"size"`
	SHA256      string    `bun:"sha256,notnull" json:"sha256"`
	UploadedBy  *int64    `bun:"uploaded_by" json:"uploaded_by"`
	CreatedAt   time.Time `bun:"created_at,notnull" json:"created_at"`
}

type blob struct {
	bun.BaseModel `bun:"table:blobs"`
	SHA256        string    `bun:"sha256,pk"`
	Size          int64     `bun:"size,notnull"`
	Data          []byte    `bun:"data,notnull"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

// AddAttachment stores data (once per distinct content) and links it to the
// ticket as a.
func (q *Q) AddAttachment(ctx context.Context, a *Attachment, data []byte) error {
	sum := sha256.Sum256(data)
	a.SHA256 = hex.EncodeToString(sum[:])
	a.Size = int64(len(data))
	if data == nil {
		data = []byte{}
	}
	b := &blob{SHA256: a.SHA256, Size: a.Size, Data: data, CreatedAt: now()}
	if err := q.hotInsert(ctx, b, nil); err != nil {
		return fmt.Errorf("store: store blob: %w", err)
	}
	a.CreatedAt = now()
	if err := q.hotInsert(ctx, a, &a.ID); err != nil {
		return fmt.Errorf("store: add attachment: %w", err)
	}
	q.searchNew()
	return nil
}

// Attachments lists the attachments of a ticket; those of internal
// comments only withInternal. The caller has already checked that it may
// see the ticket.
func (q *Q) Attachments(ctx context.Context, ticketID int64, withInternal bool) ([]*Attachment, error) {
	var as []*Attachment
	name := hotAttachments
	if !withInternal {
		name = hotAttachmentsPub
	}
	if err := q.hotScan(ctx, &as, name, ticketID); err != nil {
		return nil, fmt.Errorf("store: attachments: %w", err)
	}
	return as, nil
}

// Attachment returns an attachment and its bytes, within scope: a caller
// of another company gets ErrNotFound, and so does one who may not see
// internal notes asking for an internal note's attachment.
func (q *Q) Attachment(ctx context.Context, sc Scope, id int64, withInternal bool) (*Attachment, []byte, error) {
	a := new(Attachment)
	sel := q.db.NewSelect().Model(a).
		Join("JOIN tickets AS t ON t.id = at.ticket_id").
		Where("at.id = ?", id)
	if !withInternal {
		sel = sel.Where("NOT EXISTS (SELECT 1 FROM ticket_comments c WHERE c.id = at.comment_id AND c.internal)")
	}
	sel, err := sc.where(sel, "t.company_id")
	if err != nil {
		return nil, nil, err
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, nil, notFound(err, "attachment "+strconv.FormatInt(id, 10))
	}
	var b blob
	if err := q.db.NewSelect().Model(&b).Where("sha256 = ?", a.SHA256).Scan(ctx); err != nil {
		return nil, nil, notFound(err, "attachment data "+a.SHA256)
	}
	return a, b.Data, nil
}

// BlobCount counts distinct stored files (for tests and reports).
func (q *Q) BlobCount(ctx context.Context) (int64, error) {
	return q.db.NewSelect().Model((*blob)(nil)).Count(ctx)
}
