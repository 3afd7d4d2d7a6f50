package store

import (
	"github.com/uptrace/bun"
)

// The reads of the outbound hook and of the live event log, run in every
// ticket change's transaction (a mail that opens a ticket runs each once):
// prepared like the rest of the hot path, they skip PostgreSQL's parser and
// planner on each call. Outside a write transaction the same text runs
// through bun.
const (
	hotCompanyDomains   = "company.domains"
	hotMessageIDsTicket = "mail.msgids"
	hotTemplatesVersion = "template.version"
	hotCountAutoMail    = "outbox.count_auto"
	hotAttachments      = "attachments.ticket"
	hotAttachmentsPub   = "attachments.ticket_public"
)

func (h *hotStmts) addReads(db *bun.DB, p any) {
	h.text[hotCompanyDomains] = db.NewSelect().Model((*companyDomain)(nil)).Where("company_id = ?", p).Order("domain").String()
	h.text[hotMessageIDsTicket] = db.NewSelect().Model((*messageIDRow)(nil)).
		ColumnExpr("CASE WHEN original_id = '' THEN message_id ELSE original_id END").
		Where("ticket_id = ?", p).Order("created_at").String()
	h.text[hotTemplatesVersion] = db.NewSelect().Model((*EmailTemplate)(nil)).
		ColumnExpr("COUNT(*) AS n, MAX(id) AS max_id, MAX(updated_at) AS updated").String()
	h.text[hotCountAutoMail] = db.NewSelect().Model((*OutboxMail)(nil)).ColumnExpr("count(*)").
		Where("auto_kind = ? AND created_at >= ?", p, p).String()
	att := func(public bool) string {
		sel := db.NewSelect().Model((*Attachment)(nil)).Where("at.ticket_id = ?", p)
		if public {
			sel = sel.Where("NOT EXISTS (SELECT 1 FROM ticket_comments c WHERE c.id = at.comment_id AND c.internal)")
		}
		return sel.Order("at.id").String()
	}
	h.text[hotAttachments] = att(false)
	h.text[hotAttachmentsPub] = att(true)
}
