package classify

import (
	"strings"

	"github.com/emersion/go-message/textproto"
)

// ComplaintReport is an ARF feedback report (RFC 5965): a mailbox provider
// telling us its user marked our mail as spam (or, with FeedbackType
// "not-spam", as wanted after all).
type ComplaintReport struct {
	// FeedbackType is the lower-cased Feedback-Type: abuse, fraud, virus,
	// other, not-spam, auth-failure; "abuse" when the report has none.
	FeedbackType string
	// Recipients are the lower-cased addresses that complained:
	// Original-Rcpt-To, else the To of the returned message (providers
	// often redact the first).
	Recipients []string
	// UserAgent and ReportingDomain name who sent the report (User-Agent,
	// Reported-Domain or the report's From domain).
	UserAgent       string
	ReportingDomain string
	// OriginalMessageID and OriginalHeaders are of the returned message.
	OriginalMessageID string
	OriginalHeaders   textproto.Header
}

// Suppress reports whether mail to Recipients should stop: every feedback
// type but "not-spam" is a complaint.
func (c *ComplaintReport) Suppress() bool { return c.FeedbackType != "not-spam" }

// ParseComplaint reads an ARF feedback report: a message/feedback-report
// part (normally in a multipart/report; report-type=feedback-report), or
// Microsoft's JMRP form (the returned message carries
// X-HmXmrOriginalRecipient). It returns false for anything else.
func ParseComplaint(raw []byte) (*ComplaintReport, bool) {
	return parseComplaint(scanReport(raw))
}

func isFeedbackReport(s *reportScan) bool {
	return s.feedback != nil || s.jmrp ||
		s.topType == "multipart/report" && strings.EqualFold(s.topParams["report-type"], "feedback-report")
}

func parseComplaint(s *reportScan) (*ComplaintReport, bool) {
	if !isFeedbackReport(s) {
		return nil, false
	}
	c := &ComplaintReport{}
	for _, g := range fieldGroups(string(s.feedback), 4) {
		for _, f := range g {
			v := strings.TrimSpace(f.value)
			switch strings.ToLower(f.key) {
			case "feedback-type":
				if c.FeedbackType == "" {
					c.FeedbackType = strings.ToLower(firstWord(v))
				}
			case "user-agent":
				c.UserAgent = clip(v)
			case "reported-domain":
				if c.ReportingDomain == "" {
					c.ReportingDomain = strings.ToLower(clip(v))
				}
			case "original-rcpt-to", "removal-recipient":
				c.Recipients = appendAddr(c.Recipients, addrType(v))
			}
		}
	}
	if c.FeedbackType == "" {
		c.FeedbackType = "abuse"
	}
	if c.ReportingDomain == "" {
		if a, ok := extractEmail(s.top.Get("From")); ok {
			c.ReportingDomain = a[strings.IndexByte(a, '@')+1:]
		}
	}
	if s.returned != nil {
		for _, v := range s.returned.Values("X-Hmxmroriginalrecipient") {
			c.Recipients = appendAddr(c.Recipients, v)
		}
		c.OriginalHeaders = *s.returned
		c.OriginalMessageID = firstID(s.returned.Get("Message-Id"))
		if len(c.Recipients) == 0 {
			for _, to := range strings.Split(s.returned.Get("To"), ",") {
				if a, ok := extractEmail(to); ok {
					c.Recipients = appendAddr(c.Recipients, a)
				}
			}
		}
	}
	return c, true
}
