package parse

import "testing"

func TestStripQuotes(t *testing.T) {
	tests := []struct {
		name, in, want string
		quoted         bool
	}{
		{"gmail en one line", "Fixed, thanks.\n\nOn Mon, Mar 11, 2024 at 10:15 AM John <j@x.example> wrote:\n> old\n> text\n", "Fixed, thanks.", true},
		{"gmail en two lines", "Fixed.\n\nOn Mon, Mar 11, 2024 at 10:15 AM John Smith <\njohn@x.example> wrote:\n\n> old\n", "Fixed.", true},
		{"gmail ptbr", "Resolvido.\n\nEm seg., 11 de mar. de 2024 às 10:15, Maria <m@x.example> escreveu:\n> antigo\n", "Resolvido.", true},
		{"gmail ptbr two lines", "Resolvido.\n\nEm seg., 11 de mar. de 2024 às 10:15, Maria Souza <\nm@x.example> escreveu:\n> antigo\n", "Resolvido.", true},
		{"spanish", "Listo.\n\nEl lun, 11 mar 2024 a las 10:15, Juan (<j@x.example>) escribió:\n> viejo\n", "Listo.", true},
		{"german", "Erledigt.\n\nAm 11.03.2024 um 10:15 schrieb Hans Müller <h@x.example>:\n> alt\n", "Erledigt.", true},
		{"french", "C'est fait.\n\nLe 11 mars 2024 à 10:15, Jean <j@x.example> a écrit :\n> ancien\n", "C'est fait.", true},
		{"outlook original message en", "Done.\n\n-----Original Message-----\nFrom: Desk\nSent: Monday\nTo: me\nSubject: x\n\nold", "Done.", true},
		{"outlook mensagem original", "Feito.\n\n----- Mensagem original -----\nDe: Suporte\nEnviado: segunda\nold", "Feito.", true},
		{"outlook underscore block en", "Works now.\n\n________________________________\nFrom: Desk <d@x.example>\nSent: Monday, March 11, 2024 4:02 PM\nTo: Carla\nSubject: RE: printer\n\nold text", "Works now.", true},
		{"outlook block ptbr no rule", "Funcionou.\n\nDe: Suporte <s@x.example>\nEnviado: segunda-feira, 11 de março de 2024 16:02\nPara: Carla\nAssunto: RES: impressora\n\nantigo", "Funcionou.", true},
		{"outlook bold fields", "Ok.\n\n*From:* Desk\n*Sent:* Monday\n*To:* Carla\n*Subject:* x\n\nold", "Ok.", true},
		{"forward header kept", "Veja abaixo.\n\nFrom: Fornecedor <f@x.example>\nDate: Mon, 11 Mar 2024\nSubject: Fatura\nTo: Ana\n\nTexto encaminhado", "Veja abaixo.\n\nFrom: Fornecedor <f@x.example>\nDate: Mon, 11 Mar 2024\nSubject: Fatura\nTo: Ana\n\nTexto encaminhado", false},
		{"signature", "Pode fechar.\n\n-- \nAna\nFinanceiro", "Pode fechar.", true},
		{"iphone en", "Yes please.\n\nSent from my iPhone", "Yes please.", true},
		{"iphone ptbr", "Sim.\n\nEnviado do meu iPhone\n\n> Em 11/03/2024, às 10:15, Suporte escreveu:\n> antigo", "Sim.", true},
		{"outlook mobile", "Ok\n\nGet Outlook for Android\n", "Ok", true},
		{"smartphone ptbr", "Ok\n\nEnviado do meu smartphone Samsung Galaxy.", "Ok", true},
		{"trailing quote block", "Thanks!\n\n> earlier\n> message", "Thanks!", true},
		{"bottom post", "On Mon, Mar 11, 2024 at 10:15 AM Desk <d@x.example> wrote:\n> Did it work?\n\nYes, it works now.", "Yes, it works now.", true},
		{"interleaved", "> Which floor?\nThird.\n> Which room?\nRoom 12.\n", "Third.\nRoom 12.", true},
		{"only quote keeps original", "> just a quote\n> nothing else", "> just a quote\n> nothing else", false},
		{"nothing to strip", "Hello,\nplain text.", "Hello,\nplain text.", false},
		{"wrote in sentence not header", "On Monday the tech wrote: nothing useful\nPlease come back.", "On Monday the tech wrote: nothing useful\nPlease come back.", false},
		{"crlf", "Done.\r\n\r\nOn Mon, 11 Mar 2024, Desk wrote:\r\n> old\r\n", "Done.", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, q := StripQuotes(tt.in)
			if got != tt.want || q != tt.quoted {
				t.Errorf("StripQuotes(%q)\n got %q, %v\nwant %q, %v", tt.in, got, q, tt.want, tt.quoted)
			}
		})
	}
}
