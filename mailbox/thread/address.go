package thread

import "strings"

// subaddressSep is the separator between the base local part and the tag
// (RFC 5233). The first '+' counts, as in Postfix and Dovecot.
const subaddressSep = '+'

// bareAddress strips a display name, angle brackets and spaces:
// `"Support" <support@x.com>` → `support@x.com`.
func bareAddress(addr string) string {
	addr = strings.TrimSpace(addr)
	if i := strings.LastIndexByte(addr, '<'); i >= 0 {
		addr = addr[i+1:]
		if j := strings.IndexByte(addr, '>'); j >= 0 {
			addr = addr[:j]
		}
	}
	return strings.TrimSpace(addr)
}

// ReplyAddress returns addr with token as its sub-address:
// support@x.com → support+token@x.com. An existing tag is replaced. addr is
// returned unchanged when token is empty or addr has no '@'.
func ReplyAddress(addr string, token string) string {
	addr = bareAddress(addr)
	at := strings.LastIndexByte(addr, '@')
	if token == "" || at <= 0 {
		return addr
	}
	local, domain := addr[:at], addr[at+1:]
	if i := strings.IndexByte(local, subaddressSep); i >= 0 {
		local = local[:i]
	}
	return local + string(subaddressSep) + token + "@" + domain
}

// SplitSubaddress splits support+tag@x.com into (support@x.com, tag). An
// address without a tag returns (addr, ""). Case is preserved.
func SplitSubaddress(addr string) (base, tag string) {
	addr = bareAddress(addr)
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr, ""
	if at >= 0 {
		local, domain = addr[:at], addr[at:]
	}
	i := strings.IndexByte(local, subaddressSep)
	if i < 0 {
		return addr, ""
	}
	return local[:i] + domain, local[i+1:]
}

// TokenFromRecipients finds the first recipient of the form owned+tag@domain
// where owned@domain is one of owned (compared case-insensitively) and
// returns the lower-cased tag and the matching owned address as given. It
// does not verify the tag; pass it to VerifyToken.
func TokenFromRecipients(recipients []string, owned []string) (token string, owner string) {
	for _, r := range recipients {
		base, tag := SplitSubaddress(r)
		if tag == "" {
			continue
		}
		for _, o := range owned {
			if strings.EqualFold(base, bareAddress(o)) {
				return strings.ToLower(tag), o
			}
		}
	}
	return "", ""
}
