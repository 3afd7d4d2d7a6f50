package classify

import (
	"bufio"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"
)

// hdr builds a header from "Key: value" lines.
func hdr(t testing.TB, lines ...string) textproto.Header {
	t.Helper()
	h, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(strings.Join(lines, "\r\n") + "\r\n\r\n")))
	if err != nil {
		t.Fatalf("bad test header %q: %v", lines, err)
	}
	return h
}

func TestClassifyRules(t *testing.T) {
	const dsnCT = "Content-Type: multipart/report; report-type=delivery-status; boundary=x"
	tests := []struct {
		name       string
		lines      []string
		mailFrom   string
		null       bool
		loop       []string
		want       Kind
		wantReason string
	}{
		// Loop
		{"loop header", []string{LoopHeader + ": hd1", "Subject: hi"}, "", false, nil, Loop, LoopHeader},
		{"loop header matches ours", []string{LoopHeader + ": HD1 "}, "", false, []string{"hd1"}, Loop, LoopHeader + ": HD1"},
		{"other instance's loop header", []string{LoopHeader + ": other", "Auto-Submitted: auto-replied"}, "", false, []string{"hd1"}, AutoReply, "Auto-Submitted: auto-replied"},
		{"other instance, no other signal", []string{LoopHeader + ": other"}, "", false, []string{"hd1"}, Human, ""},
		{"loop beats bounce", []string{LoopHeader + ": hd1", dsnCT}, "", true, nil, Loop, LoopHeader},

		// Bounce
		{"dsn from anyone", []string{dsnCT, "From: someone@x.com"}, "someone@x.com", false, nil, Bounce, "Content-Type: multipart/report; report-type=delivery-status"},
		{"dsn quoted param", []string{`Content-Type: Multipart/Report; report-type="Delivery-Status"; boundary=x`}, "", false, nil, Bounce, "Content-Type: multipart/report; report-type=delivery-status"},
		{"null sender + postfix subject", []string{"Subject: Undelivered Mail Returned to Sender"}, "", true, nil, Bounce, "null return path + Subject: undelivered mail returned to sender"},
		{"Return-Path <> + exim subject", []string{"Return-Path: <>", "Subject: Mail delivery failed: returning message to sender"}, "", false, nil, Bounce, "null return path + Subject: mail delivery failed"},
		{"MAILER-DAEMON + failure notice", []string{"From: MAILER-DAEMON@mx.x.com", "Subject: failure notice"}, "", false, nil, Bounce, "From: mailer-daemon + Subject: failure notice"},
		{"postmaster + Undeliverable", []string{"From: Microsoft Outlook <postmaster@contoso.com>", "Subject: Undeliverable: hello"}, "bounces@x", false, nil, Bounce, "From: postmaster + Subject: undeliverable:"},
		{"Mail Delivery Subsystem + gmail subject", []string{"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Subject: Delivery Status Notification (Failure)"}, "", false, nil, Bounce, "From: Mail Delivery Subsystem + Subject: delivery status notification (failure)"},
		{"envelope mailer-daemon + returned mail", []string{"From: x@y.com", "Subject: Returned mail: see transcript for details"}, "MAILER-DAEMON@y.com", false, nil, Bounce, "MAIL FROM: mailer-daemon + Subject: returned mail:"},
		{"pt-BR bounce subject", []string{"From: MAILER-DAEMON@uol.example", "Subject: =?ISO-8859-1?Q?N=E3o_foi_poss=EDvel_entregar_a_mensagem?="}, "", false, nil, Bounce, "From: mailer-daemon + Subject: não foi possível entregar"},
		{"mensagem não entregue", []string{"Subject: Mensagem não entregue"}, "", true, nil, Bounce, "null return path + Subject: mensagem não entregue"},
		{"bounce subject from a person", []string{"From: ana@x.com", "Subject: Mail delivery failed again?"}, "ana@x.com", false, nil, Human, ""},
		{"daemon without bounce subject", []string{"From: postmaster@x.com", "Subject: Your quota"}, "", false, nil, Human, ""},
		{"null sender, no subject: auto", []string{"Subject: hello"}, "", true, nil, AutoReply, "null return path"},

		// AutoReply by header
		{"auto-submitted auto-replied", []string{"Auto-Submitted: auto-replied"}, "", false, nil, AutoReply, "Auto-Submitted: auto-replied"},
		{"auto-submitted case+params", []string{"Auto-Submitted: Auto-Generated; owner-email=\"a@b\""}, "", false, nil, AutoReply, "Auto-Submitted: auto-generated"},
		{"auto-submitted auto-notified", []string{"Auto-Submitted: auto-notified"}, "", false, nil, AutoReply, "Auto-Submitted: auto-notified"},
		{"auto-submitted comment", []string{"Auto-Submitted: auto-replied (vacation)"}, "", false, nil, AutoReply, "Auto-Submitted: auto-replied"},
		{"auto-submitted no is human", []string{"Auto-Submitted: no", "Subject: Re: printer"}, "", false, nil, Human, ""},
		{"auto-submitted NO with comment", []string{"Auto-Submitted: NO (human)"}, "", false, nil, Human, ""},
		{"auto-submitted no but list", []string{"Auto-Submitted: no", "List-Id: <a.b.c>"}, "", false, nil, Bulk, "List-Id"},
		{"auto-submitted empty", []string{"Auto-Submitted: "}, "", false, nil, Human, ""},
		{"x-auto-submitted", []string{"X-Auto-Submitted: auto-replied"}, "", false, nil, AutoReply, "X-Auto-Submitted: auto-replied"},
		{"x-autoreply", []string{"X-Autoreply: yes"}, "", false, nil, AutoReply, "X-Autoreply: yes"},
		{"x-autoreply no", []string{"X-Autoreply: no"}, "", false, nil, Human, ""},
		{"x-autorespond", []string{"X-Autorespond: Out of office"}, "", false, nil, AutoReply, "X-Autorespond: Out of office"},
		{"x-autoresponse", []string{"X-Autoresponse: 1"}, "", false, nil, AutoReply, "X-Autoresponse: 1"},
		{"suppress all", []string{"X-Auto-Response-Suppress: All"}, "", false, nil, AutoReply, "X-Auto-Response-Suppress: All"},
		{"suppress list with OOF", []string{"X-Auto-Response-Suppress: DR, OOF, AutoReply"}, "", false, nil, AutoReply, "X-Auto-Response-Suppress: OOF"},
		{"suppress DR only", []string{"X-Auto-Response-Suppress: DR, RN, NRN"}, "", false, nil, Human, ""},
		{"precedence auto_reply", []string{"Precedence: auto_reply"}, "", false, nil, AutoReply, "Precedence: auto_reply"},
		{"x-precedence auto_reply", []string{"X-Precedence: Auto_Reply"}, "", false, nil, AutoReply, "X-Precedence: auto_reply"},
		{"read receipt", []string{"Content-Type: multipart/report; report-type=disposition-notification; boundary=b"}, "", false, nil, AutoReply, "Content-Type: multipart/report; report-type=disposition-notification"},
		{"auto header beats bulk", []string{"Auto-Submitted: auto-replied", "Precedence: bulk"}, "", false, nil, AutoReply, "Auto-Submitted: auto-replied"},

		// Bulk
		{"precedence bulk", []string{"Precedence: bulk"}, "", false, nil, Bulk, "Precedence: bulk"},
		{"precedence list", []string{"Precedence: LIST"}, "", false, nil, Bulk, "Precedence: list"},
		{"precedence junk", []string{"Precedence: junk"}, "", false, nil, Bulk, "Precedence: junk"},
		{"precedence first-class", []string{"Precedence: first-class"}, "", false, nil, Human, ""},
		{"list-id", []string{"List-Id: Foo <foo.lists.x>"}, "", false, nil, Bulk, "List-Id"},
		{"list-unsubscribe", []string{"List-Unsubscribe: <mailto:u@x>"}, "", false, nil, Bulk, "List-Unsubscribe"},
		{"list-post", []string{"List-Post: <mailto:l@x>"}, "", false, nil, Bulk, "List-Post"},
		{"mailchimp header", []string{"X-Mailchimp-Campaign: 12"}, "", false, nil, Bulk, "X-Mailchimp-Campaign"},
		{"mandrill user", []string{"X-MC-User: abc"}, "", false, nil, Bulk, "X-MC-User"},
		{"feedback-id alone", []string{"Feedback-ID: 1:2:3:ses"}, "", false, nil, Human, ""},
		{"bulk beats ooo subject", []string{"List-Id: <a.b>", "Subject: Out of Office sale"}, "", false, nil, Bulk, "List-Id"},

		// AutoReply by subject
		{"subject automatic reply", []string{"Subject: Automatic reply: printer"}, "", false, nil, AutoReply, "Subject: automatic reply:"},
		{"subject auto:", []string{"Subject: AUTO: Maria is out"}, "", false, nil, AutoReply, "Subject: auto:"},
		{"subject out of office", []string{"Subject: Out of Office: printer"}, "", false, nil, AutoReply, "Subject: out of office"},
		{"subject pt-BR", []string{"Subject: Resposta automática: Impressora"}, "", false, nil, AutoReply, "Subject: resposta automática"},
		{"subject pt-BR encoded", []string{"Subject: =?UTF-8?B?UmVzcG9zdGEgYXV0b23DoXRpY2E6IEltcHJlc3NvcmE=?="}, "", false, nil, AutoReply, "Subject: resposta automática"},
		{"subject ausente", []string{"Subject: Ausente do escritório"}, "", false, nil, AutoReply, "Subject: ausente do escritório"},
		{"subject es", []string{"Subject: Fuera de la oficina"}, "", false, nil, AutoReply, "Subject: fuera de la oficina"},
		{"subject fr", []string{"Subject: Réponse automatique : imprimante"}, "", false, nil, AutoReply, "Subject: réponse automatique"},
		{"subject de", []string{"Subject: Abwesenheitsnotiz: Drucker"}, "", false, nil, AutoReply, "Subject: abwesenheitsnotiz"},
		{"subject autoreply", []string{"Subject: Autoreply: hi"}, "", false, nil, AutoReply, "Subject: autoreply"},
		{"subject auto-reply", []string{"Subject: Auto-Reply from Ana"}, "", false, nil, AutoReply, "Subject: auto-reply"},
		{"reply to an ooo is human", []string{"Subject: Re: Out of Office"}, "", false, nil, Human, ""},
		{"auto-submitted no + ooo subject", []string{"Auto-Submitted: no", "Subject: Out of office"}, "", false, nil, AutoReply, "Subject: out of office"},

		// Human
		{"plain human", []string{"From: ana@x.com", "Subject: Printer broken"}, "ana@x.com", false, nil, Human, ""},
		{"empty header", nil, "", false, nil, Human, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClassifyWithLoop(hdr(t, tt.lines...), tt.mailFrom, tt.null, tt.loop)
			if got.Kind != tt.want || got.Reason != tt.wantReason {
				t.Fatalf("got %+v, want {%s %q}", got, tt.want, tt.wantReason)
			}
			if got.Automated() != (tt.want != Human) {
				t.Fatalf("Automated() = %v for %s", got.Automated(), got.Kind)
			}
		})
	}
}

func TestClassifyIsClassifyWithLoopNil(t *testing.T) {
	h := hdr(t, LoopHeader+": anything")
	if got := Classify(h, "", false); got.Kind != Loop {
		t.Fatalf("Classify = %+v, want Loop", got)
	}
}

func FuzzClassify(f *testing.F) {
	f.Add([]byte("Auto-Submitted: auto-replied\r\nSubject: x\r\n\r\n"), "", false)
	f.Add([]byte("Content-Type: multipart/report; report-type=delivery-status\r\nFrom: MAILER-DAEMON\r\n\r\n"), "", true)
	f.Add([]byte("Subject: =?UTF-8?Q?Resposta_autom=C3=A1tica?=\r\n\r\n"), "a@b", false)
	f.Add([]byte("X-Auto-Response-Suppress: ,,All\r\nPrecedence: \r\n\r\n"), "", false)
	f.Add([]byte("Subject: =?x-unknown?B?////?=\r\nReturn-Path: <>\r\n\r\n"), "", false)
	f.Fuzz(func(t *testing.T, raw []byte, mailFrom string, null bool) {
		h, err := textproto.ReadHeader(bufio.NewReader(strings.NewReader(string(raw))))
		if err != nil {
			return
		}
		r := ClassifyWithLoop(h, mailFrom, null, []string{"hd1"})
		switch r.Kind {
		case Human:
			if r.Reason != "" || null {
				t.Fatalf("Human with reason %q / null sender %v", r.Reason, null)
			}
		case AutoReply, Bulk, Bounce, Loop:
			if r.Reason == "" {
				t.Fatalf("%s without reason", r.Kind)
			}
		default:
			t.Fatalf("unknown kind %q", r.Kind)
		}
		if again := ClassifyWithLoop(h, mailFrom, null, []string{"hd1"}); again != r {
			t.Fatalf("not deterministic: %+v vs %+v", r, again)
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	human := hdr(b,
		"Return-Path: <ana@cliente.example.com>",
		"Received: from mx.cliente.example.com by mx1.helpdesk.example",
		"From: Ana <ana@cliente.example.com>",
		"To: support@helpdesk.example",
		"Subject: =?UTF-8?Q?Re:_[#1042]_Impressora_n=C3=A3o_imprime?=",
		"Date: Sun, 29 Nov 2026 19:31:00 -0300",
		"Message-ID: <abc@cliente.example.com>",
		"In-Reply-To: <out-1042-abc@helpdesk.example>",
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
	)
	b.ReportAllocs()
	for b.Loop() {
		if ClassifyWithLoop(human, "ana@cliente.example.com", false, []string{"hd1"}).Kind != Human {
			b.Fatal("wrong kind")
		}
	}
}
