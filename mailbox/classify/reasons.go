package classify

import "strings"

// Reasons follow sisimai's vocabulary, so a report reads the same whichever
// software wrote it. A phrase of the diagnostic decides first (servers
// often send a generic 5.0.0 or 550), then the status code.
var reasonPhrases = []struct {
	code    string
	phrases []string
}{
	{"mailboxfull", []string{"mailbox full", "mailbox is full", "over quota", "quota exceeded", "exceeded storage",
		"insufficient storage", "mailbox exceeds", "user is over", "out of storage", "переполнен"}},
	{"suspend", []string{"account disabled", "account is disabled", "has been disabled", "suspended", "inactive account",
		"account is inactive", "deactivated", "mailbox disabled", "account has been locked"}},
	{"userunknown", []string{"user unknown", "unknown user", "no such user", "does not exist", "doesn't exist",
		"recipient not found", "recipientnotfound", "not listed in domino directory", "mailbox unavailable",
		"invalid recipient", "no mailbox", "unknown address", "user not found", "address rejected",
		"no such recipient", "not a valid mailbox", "mailbox not found", "unknown recipient", "couldn't be found",
		"unrouteable address", "invalid mailbox", "нет такого пользователя", "user doesn't have",
		"not listed in public name & address book", "no se encuentra en el directorio de domino",
		"non répertorié dans l'annuaire domino", "unable to deliver message to"}},
	{"hostunknown", []string{"host not found", "domain not found", "host unknown", "no mx", "name or service not known",
		"domain does not exist", "unrouteable mail domain", "host or domain name not found", "no route to host",
		"dns lookup failure: host", "no such domain.", "invalid domain name", "no mx found for"}},
	{"mesgtoobig", []string{"message size exceeds", "message too large", "message is too large", "size limit",
		"too big", "exceeds the maximum size"}},
	{"spamdetected", []string{"spam", "junk mail", "content rejected"}},
	{"norelaying", []string{"relay access denied", "relaying denied", "relay not permitted", "unable to relay"}},
	{"virusdetected", []string{"virus", "malware"}},
	{"networkerror", []string{"connection timed out", "connection refused", "timed out", "network is unreachable",
		"could not connect", "dns lookup failed.", "temporary failure in mx lookup"}},
	{"blocked", []string{"blocked", "blacklist", "blocklist", "denylist", "access denied", "not authorized",
		"policy", "rejected by", "refused", "dmarc", "spf", "cannot route mail to user"}},
	{"expired", []string{"retry timeout exceeded", "retry time exceeded", "could not be delivered for", "giving up",
		"queue time expired", "message expired", "too long in queue", "could not send message for past",
		"envelope expired", "could not deliver for the last"}},
}

// reasonByStatus covers reports whose words name no known cause.
var reasonByStatus = map[string]string{
	"5.1.0": "userunknown", "5.1.1": "userunknown", "5.1.10": "userunknown", "5.1.6": "userunknown",
	"5.1.2": "hostunknown", "5.4.4": "hostunknown", "5.2.2": "mailboxfull", "4.2.2": "mailboxfull",
	"5.2.1": "suspend", "5.2.3": "mesgtoobig", "5.3.4": "mesgtoobig", "5.7.1": "blocked", "5.7.0": "securityerror",
	"5.7.26": "blocked", "5.7.509": "blocked", "5.4.7": "expired", "4.4.7": "expired", "4.4.1": "networkerror",
	"4.4.2": "networkerror", "5.7.606": "blocked", "5.4.1": "userunknown",
}

// reasonStatus is the status given to a failure that came without one.
var reasonStatus = map[string]string{
	"userunknown": "5.1.1", "hostunknown": "5.1.2", "mailboxfull": "5.2.2", "suspend": "5.2.1",
	"mesgtoobig": "5.3.4", "spamdetected": "5.7.1", "norelaying": "5.7.1", "virusdetected": "5.7.1",
	"blocked": "5.7.1", "securityerror": "5.7.0", "expired": "5.4.7", "networkerror": "5.4.1",
}

// reasonText is what a ticket note says.
var reasonText = map[string]string{
	"userunknown":   "the mailbox does not exist",
	"hostunknown":   "the domain does not exist or accepts no mail",
	"mailboxfull":   "the mailbox is full",
	"suspend":       "the mailbox is disabled",
	"mesgtoobig":    "the message is too large",
	"spamdetected":  "the receiving server took it for spam",
	"norelaying":    "the receiving server does not relay for us",
	"virusdetected": "the receiving server found a virus",
	"blocked":       "the receiving server refused it by policy",
	"securityerror": "the receiving server required authentication",
	"expired":       "the server gave up retrying",
	"networkerror":  "the receiving server could not be reached",
	"delayed":       "delivery is delayed",
	"undefined":     "delivery failed",
}

// reasonCode names the cause of a failure or delay.
func reasonCode(status, diagnostic string) string {
	low := strings.ToLower(diagnostic)
	if low != "" {
		for _, r := range reasonPhrases {
			for _, p := range r.phrases {
				if strings.Contains(low, p) {
					return r.code
				}
			}
		}
	}
	if c, ok := reasonByStatus[status]; ok {
		return c
	}
	switch {
	case strings.HasPrefix(status, "5.1."):
		return "userunknown"
	case strings.HasPrefix(status, "5.7."):
		return "blocked"
	case strings.HasPrefix(status, "4."):
		return "delayed"
	}
	return "undefined"
}
