// Package compose renders the helpdesk's outbound mail: templated
// multipart/alternative messages (text and HTML, plus an inline logo in a
// multipart/related wrapper) with threading headers, ready to queue, and
// signs them with DKIM. It is pure: structs and bytes in, bytes out.
//
// # Templates
//
// Every event has a default template per language under templates/<lang>/:
// <event>.subject.txt and <event>.text.txt (text/template) and <event>.html
// (html/template). The HTML file is only the message body: the branded frame
// around it (logo or company name, colours, the "view ticket" button, the
// footer) is the package's, so an admin override cannot break the layout.
// An override (Template) may leave any of the three empty to keep the
// default for that part. Templates see these fields:
//
//	every field of Data       .TicketNumber, .TicketSubject, .ActorName, .TicketURL, .Brand.CompanyName…
//	.Tag                      "[#1042]" ("" for the test mail)
//	.Company                  Brand.CompanyName, or "JC Service Desk"
//	.RecipientName            the name of the only recipient ("" with several)
//	.StatusLabel, .PriorityLabel  Status and Priority translated ("Em andamento")
//	.Comment                  the new comment: text in Subject/Text, safe HTML in HTML
//	.RatingLinks              for closed: five {N, URL} (URL = RatingURL + "?r=N" / "&r=N")
//	.L                        translated labels (.L.Ticket, .L.Status…)
//
// and HTML bodies may call {{template "comment" .}}, {{template "facts" .}}
// and {{template "rating" .}} for the styled comment box, ticket summary and
// rating buttons.
//
// # Account mails
//
// confirm, reset, login_code, signin_link, new_device, register_exists and
// invite (AccountEvents) are about a person's access, not a ticket: no tag,
// no threading, and the frame's button is the mail's action (the link with
// its token, /forgot or /login) with the link as text under it. They see
// .ActionURL, .Code, .LoginURL, .ForgotURL, .ClientIP and, derived:
//
//	.ValidFor                 "24 horas", "10 minutes": Expires - Date
//	.ExpiresAt, .When         Expires and Date in Zone
//	.Browser                  "Firefox em Linux": recognised names only, never the raw User-Agent
//
// and {{template "code" .}} (the code, large, in one copyable run of digits)
// and {{template "device" .}} (when, IP, browser). The sign-in code is not
// in the subject: subjects are kept in the outbox's subject column, shown
// by `servicedesk outbox list` and logged, while a second factor should
// live only in the body; phones still show it at a glance, from the hidden
// preheader (and the text part's first line) that inboxes preview.
//
// # Headers on automatic mail
//
// Auto-Submitted is set as given (RFC 3834). X-Auto-Response-Suppress: All is
// on every message so Exchange/Outlook out-of-office replies stay quiet, and
// the loop header (classify.LoopHeader) lets our intake recognise our own mail.
// "Precedence: bulk" is set only with Auto-Submitted: auto-generated
// (notifications): RFC 3834 §3.1.8 says responders must not rely on it and
// auto-replies should not carry it, but old vacation responders that ignore
// Auto-Submitted still honour it, and notifications are where loops with them
// have been seen. Acknowledgements (auto-replied), account mails (a reset
// the person is waiting for is not bulk mail, and spam filters read
// Precedence: bulk as that) and human-written mail get no Precedence.
//
// Subjects keep the same base ("[#1042] Impressora não imprime") for every
// event of a ticket: Gmail threads only when the base subject matches, and
// the tag goes first so clients that truncate subjects keep it.
package compose
