package ticketing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// The person whose data is exported and erased, and what is theirs.
const (
	titularName   = "Mariana Quitéria Sobrenome"
	titularPhrase = "zebra-azul-7431"
	internalNote  = "nota interna secreta sobre a cliente"
)

type titular struct {
	u          *store.User
	own, other *store.Ticket // opened by them; opened by a colleague, they take part
	unrelated  *store.Ticket // nothing to do with them
}

// seedTitular gives w.client a distinctive name and a trail in every
// table that can hold their data.
func seedTitular(t *testing.T, w *world) *titular {
	t.Helper()
	ctx := context.Background()
	svc := w.svc
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	u, err := svc.UpdateUser(ctx, w.admin, w.client.Email, func(u *store.User) error { u.Name = titularName; return nil })
	must(err)
	w.client = u
	p := &titular{u: u}
	cur, err := svc.CurrentRevision(ctx, w.acme.ID)
	must(err)
	_, err = svc.Accept(ctx, u, cur.ID, "203.0.113.9", store.ChannelWeb)
	must(err)
	_, err = svc.AddRequest(ctx, w.admin, ticketing.RequestInput{Email: u.Email, Kind: store.RequestErasure, Note: "pedido de " + titularName})
	must(err)

	p.own, err = svc.Create(ctx, u, ticketing.CreateInput{Requester: u, Subject: "Impressora " + titularPhrase,
		Body: "Minha frase " + titularPhrase + " desde ontem", Source: store.SourceEmail})
	must(err)
	n := p.own.Number
	_, err = svc.Assign(ctx, w.tech, n, w.tech)
	must(err)
	_, err = svc.Comment(ctx, w.tech, n, ticketing.CommentInput{Body: "Reinicie, por favor"})
	must(err)
	note, err := svc.Comment(ctx, w.tech, n, ticketing.CommentInput{Body: internalNote, Internal: true})
	must(err)
	mine, err := svc.Comment(ctx, u, n, ticketing.CommentInput{Body: "Ainda travando " + titularPhrase, BodyHTML: "<p>Ainda travando " + titularPhrase + "</p>"})
	must(err)
	_, err = svc.SetStatus(ctx, w.tech, n, store.StatusResolved, ticketing.StatusInput{Solution: "feito", Reason: "feito", Evaluation: "ok", Classification: "outro"})
	must(err)
	_, err = svc.Rate(ctx, u, n, 4, "bom atendimento "+titularPhrase)
	must(err)

	p.other, err = svc.Create(ctx, w.colleague, ticketing.CreateInput{Requester: w.colleague, Subject: "Rede lenta", Body: "no andar 2, como a " + titularName})
	must(err)
	must(svc.AddParticipant(ctx, w.admin, p.other.Number, u))
	_, err = svc.Comment(ctx, u, p.other.Number, ticketing.CommentInput{Body: "Também aqui " + titularPhrase})
	must(err)
	_, err = svc.Comment(ctx, w.tech, p.other.Number, ticketing.CommentInput{Body: "Liguei para " + titularName + " (" + u.Email + ")", Internal: true})
	must(err)
	p.unrelated, err = svc.Create(ctx, w.outsider, ticketing.CreateInput{Requester: w.outsider, Subject: "Sem relação", Body: "nada"})
	must(err)

	raw := "From: " + titularName + " <" + u.Email + ">\r\nTo: suporte@helpdesk.example\r\nSubject: Impressora " + titularPhrase + "\r\n\r\nMinha frase " + titularPhrase + "\r\n"
	cc := "From: joao <" + w.colleague.Email + ">\r\nCc: " + titularName + " <" + u.Email + ">\r\nSubject: Rede lenta\r\n\r\nVeja com " + titularName + "\r\n"
	err = st(w).InTx(ctx, func(q *store.Q) error {
		ownID, otherID, mineID, noteID := p.own.ID, p.other.ID, mine.ID, note.ID
		if err := q.InsertMailMessage(ctx, &store.MailMessage{ContentHash: "h1", Source: "smtp", MailFrom: u.Email, Recipients: "suporte@helpdesk.example",
			FromAddr: u.Email, Subject: "Impressora " + titularPhrase, Action: store.MailTicket, TicketID: &ownID,
			RawSize: int64(len(raw)), RawGz: store.Gzip([]byte(raw))}); err != nil {
			return err
		}
		if err := q.InsertMailMessage(ctx, &store.MailMessage{ContentHash: "h2", Source: "smtp", MailFrom: w.colleague.Email,
			Recipients: "suporte@helpdesk.example, " + u.Email, FromAddr: w.colleague.Email, Subject: "Rede lenta", Action: store.MailComment,
			TicketID: &otherID, RawSize: int64(len(cc)), RawGz: store.Gzip([]byte(cc))}); err != nil {
			return err
		}
		if err := q.AddAttachment(ctx, &store.Attachment{TicketID: ownID, CommentID: &mineID, Filename: "foto-" + titularPhrase + ".txt",
			ContentType: "text/plain", UploadedBy: &u.ID}, []byte("conteudo do anexo "+titularPhrase)); err != nil {
			return err
		}
		if err := q.AddAttachment(ctx, &store.Attachment{TicketID: ownID, CommentID: &noteID, Filename: "interno.txt",
			ContentType: "text/plain", UploadedBy: &w.tech.ID}, []byte("anexo da nota interna")); err != nil {
			return err
		}
		if err := q.AddMessageID(ctx, store.MessageRef{MessageID: "<out1@helpdesk.example>", TicketID: ownID, Direction: "out",
			Recipient: u.Email, Event: "comment"}); err != nil {
			return err
		}
		for _, m := range []*store.OutboxMail{
			{TicketID: &ownID, Event: "comment", MailFrom: "suporte@helpdesk.example", Recipients: u.Email, Subject: "Re: Impressora " + titularPhrase,
				MessageID: "<out1@helpdesk.example>", Raw: []byte("To: " + titularName + " <" + u.Email + ">\r\n\r\n" + titularPhrase)},
			{TicketID: &ownID, Event: "comment", MailFrom: "suporte@helpdesk.example", Recipients: w.tech.Email, Subject: "Re: Impressora " + titularPhrase,
				MessageID: "<out2@helpdesk.example>", Raw: []byte("To: tech\r\n\r\n" + titularName + " escreveu: " + titularPhrase)},
			{TicketID: &p.unrelated.ID, Event: "created", MailFrom: "suporte@helpdesk.example", Recipients: w.outsider.Email, Subject: "Sem relação",
				MessageID: "<out3@helpdesk.example>", Raw: []byte("To: eve\r\n\r\nnada")},
		} {
			if err := q.EnqueueMail(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	must(err)
	return p
}

func st(w *world) *store.Store { return w.st }

func TestExportHoldsThePersonOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		p := seedTitular(t, w)
		// On a mail thread: the export says which, not who else is on it.
		if err := s.InTx(ctx, func(q *store.Q) error {
			return q.AddThreadAddresses(ctx, p.own.ID, store.ThreadInboundCc, "<th@acme.example>", []string{p.u.Email, w.outsider.Email})
		}); err != nil {
			t.Fatal(err)
		}

		if _, err := w.svc.Export(ctx, w.colleague, p.u.ID); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("a colleague exports the person: %v", err)
		}
		if _, err := w.svc.Export(ctx, w.tech, p.u.ID); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("a tech exports the person: %v", err)
		}
		if _, err := w.svc.Export(ctx, p.u, p.u.ID); err != nil {
			t.Fatalf("the person exports themselves: %v", err)
		}
		x, err := w.svc.Export(ctx, w.admin, p.u.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{p.u.Email, titularName, "Minha frase " + titularPhrase, "Ainda travando " + titularPhrase,
			"Também aqui " + titularPhrase, "bom atendimento " + titularPhrase, "Reinicie, por favor", "Rede lenta", "203.0.113.9", "foto-" + titularPhrase} {
			if !bytes.Contains(b, []byte(jsonText(want))) {
				t.Errorf("export lacks %q", want)
			}
		}
		for _, absent := range []string{internalNote, "interno.txt", w.tech.Email, w.admin.Email, w.colleague.Email, w.outsider.Email,
			"Sem relação", w.superv.Email} {
			if bytes.Contains(b, []byte(jsonText(absent))) {
				t.Errorf("export holds %q", absent)
			}
		}
		if len(x.Tickets) != 2 || x.Tickets[0].Role != "requester" || x.Tickets[1].Role != "participant" || x.Tickets[1].RatingComment != "" {
			t.Fatalf("tickets %+v", x.Tickets)
		}
		if len(x.Threads) != 1 || x.Threads[0].TicketID != p.own.ID || x.Threads[0].How != store.ThreadInboundCc {
			t.Fatalf("threads %+v, want the one ticket whose thread has the address", x.Threads)
		}
		if len(x.Comments) != 2 || len(x.Mails) != 1 || len(x.Consents) != 1 || len(x.Requests) != 1 {
			t.Fatalf("comments %d mails %d consents %d requests %d", len(x.Comments), len(x.Mails), len(x.Consents), len(x.Requests))
		}
		files := map[string]string{}
		err = x.Files(ctx, func(name string, data []byte) error { files[name] = string(data); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 2 || !strings.Contains(files[x.Mails[0].File], "Minha frase "+titularPhrase) ||
			files[x.Tickets[0].Attachments[0].File] != "conteudo do anexo "+titularPhrase {
			t.Fatalf("files %v", files)
		}
	})
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}
