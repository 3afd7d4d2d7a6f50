package ticketing

import (
	"strings"
	"unicode"
)

// commonPasswords are passwords (lower-cased, ten characters or more, as
// shorter ones fail the length rule anyway) that people pick first, in
// Brazil and elsewhere. Our own short list, not a copied dump: it stops
// the guesses an attacker tries first, the length rule does the rest.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Fields(`
1234567890 0123456789 0987654321 12345678910 123456789a a123456789 1234567890a
1q2w3e4r5t 1q2w3e4r5t6y q1w2e3r4t5 qwertyuiop asdfghjkl; zxcvbnm123 1qaz2wsx3edc
qwerty1234 qwerty12345 qwerty123456 asdfghjkl1 asdf123456 zaq12wsxcde 1234qwerty
password12 password123 password1234 password1! passw0rd123 p@ssw0rd123 p@ssword123
mypassword mypassword1 mypassword123 password2024 password2025 password2026
iloveyou12 iloveyou123 letmein123 welcome123 welcome2024 welcome2025 changeme123
administrator admin12345 admin123456 admin@1234 admin@12345 adminadmin root123456
superuser1 sunshine12 football12 baseball12 princess12 dragon1234 monkey1234
abcdefghij abc1234567 abcd123456 aaaaaaaaaa 1111111111 0000000000 1212121212
1234512345 1122334455 9876543210 123123123123 qweasdzxc1 trustno1234
senha12345 senha123456 senha1234567 minhasenha minhasenha1 minhasenha123
mudar12345 mudar123456 mudarsenha mudarasenha trocarsenha trocar1234 trocar12345
alterar123 alterarsenha novasenha1 novasenha12 novasenha123 senhaforte senhasegura
senhanova1 suasenha123 senhadoadmin senhaadmin admin@senha brasil1234 brasil12345
brasil2024 brasil2025 brasil2026 flamengo12 flamengo123 corinthians corinthians1
palmeiras1 palmeiras12 saopaulo12 saopaulo123 vasco12345 gremio1234 cruzeiro12
fluminense botafogo12 santos1234 internacional atleticomg palmeiras123 corinthians123
meuamor123 teamo12345 teamo123456 eusouDeus iloveu1234 jesus12345 jesuscristo
deusefiel deus123456 deusefiel1 mariana123 gabriel123 felipe1234 lucas12345
amanda1234 bruna12345 beatriz123 juliana123 fernanda12 rafael1234 pedro12345
servicedesk servicedesk1 helpdesk123 suporte123 suporte1234 suporte@123 empresa123
empresa1234 mudar@123 mudar@1234 senha@1234 senha@12345 admin@2024 admin@2025
bemvindo123 bemvindo12 bemvindo2025 primeiroacesso acesso1234 acesso12345
`) {
		m[strings.ToLower(p)] = true
	}
	return m
}()

// isCommonPassword reports whether pw is on the list, ignoring case and a
// trailing "!" or "." (the usual way to satisfy a symbol rule), or is one
// character repeated, or a run of consecutive digits or letters.
func isCommonPassword(pw string) bool {
	p := strings.ToLower(strings.TrimSpace(pw))
	if commonPasswords[p] || commonPasswords[strings.TrimRight(p, "!.")] {
		return true
	}
	rs := []rune(p)
	same, up, down := true, true, true
	for i := 1; i < len(rs); i++ {
		same = same && rs[i] == rs[0]
		up = up && rs[i] == rs[i-1]+1
		down = down && rs[i] == rs[i-1]-1
	}
	if same || ((up || down) && (unicode.IsDigit(rs[0]) || unicode.IsLetter(rs[0]))) {
		return true
	}
	// A word and a few digits the list has with other digits:
	// "senha" + 7 digits, "mudar" + digits.
	base := strings.TrimRightFunc(p, func(r rune) bool { return unicode.IsDigit(r) || r == '@' || r == '!' })
	switch base {
	case "senha", "mudar", "admin", "password", "qwerty", "brasil", "teste", "test", "trocar", "acesso", "suporte", "123":
		return true
	}
	return false
}
