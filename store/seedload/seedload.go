// Package seedload fills a database with realistic Portuguese tickets and
// comments, fast (batched inserts), for load tests and benchmarks: the
// search benchmark seeds through it, and so does cmd/seedload.
package seedload

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// Options says how much to seed.
type Options struct {
	Tickets   int
	Comments  int // spread over the tickets at random
	Companies int // default 20
	Seed      uint64
	// Batch is the rows per insert statement and transaction (default 500).
	Batch int
	// Progress, when set, is told the rows written so far.
	Progress func(tickets, comments int)
}

// Result is what was seeded.
type Result struct {
	Companies []*store.Company
	Clients   []*store.User // one per company at least
	Techs     []*store.User
	FirstID   int64 // the first seeded ticket's id
	Elapsed   time.Duration
}

// words is a helpdesk vocabulary, most common first: word i is drawn with
// a probability falling like a power law, as in real text.
var words = strings.Fields(`o a de que não do da em um para é com uma os no se na por mais as dos
	como mas ao ele das tem à seu sua ou ser quando muito nos já está eu também só pelo pela até isso
	sistema impressora senha acesso erro tela computador usuário chamado problema rede internet
	email arquivo servidor conta login atualização instalação configuração impressão relatório
	notebook monitor teclado mouse cabo wifi vpn backup licença programa aplicativo navegador
	planilha documento pasta compartilhada permissão bloqueado lento travando reiniciar desligou
	funciona conectar conexão câmera microfone reunião agenda calendário telefone ramal celular
	sincronização nuvem certificado assinatura digital token fatura boleto pagamento financeiro
	cadastro cliente fornecedor estoque nota fiscal emissão sefaz xml danfe contábil folha ponto
	biométrico catraca portaria manutenção preventiva toner cartucho papel atolado scanner
	digitalização pdf vírus antivírus spam phishing suspeito ataque firewall porta roteador switch
	ip dns domínio site página formulário botão mensagem aviso alerta urgente hoje ontem amanhã
	semana manhã tarde reunião diretoria gerente financeiro jurídico compras vendas logística
	transporte entrega rastreio pedido orçamento contrato renovação expirou vencido expirada
	migração versão antiga nova troca substituição garantia técnico visita remoto suporte
	atendimento prioridade ligação retorno solução paliativa definitiva causa raiz análise
	verificação teste validação homologação produção ambiente banco dados consulta lentidão
	índice tabela cópia restauração exclusão acidental recuperação lixeira histórico auditoria
	ortografia acentuação codificação caracteres estranhos ç ã õ é ê ó açúcar coração ação`)

// word draws a word, common ones far more often.
func word(r *rand.Rand) string {
	i := int(math.Pow(r.Float64(), 2.2) * float64(len(words)))
	return words[min(i, len(words)-1)]
}

// Text is n words of generated Portuguese, a sentence per 8–15 words.
func Text(r *rand.Rand, n int) string {
	var b strings.Builder
	next := 8 + r.IntN(8)
	capital := true
	for i := 0; i < n; i++ {
		w := word(r)
		if capital {
			w = strings.ToUpper(w[:1]) + w[1:]
			capital = false
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		if next--; next == 0 || i == n-1 {
			b.WriteByte('.')
			next, capital = 8+r.IntN(8), true
		}
	}
	return b.String()
}

// Seed writes o.Tickets tickets and o.Comments comments (plus the
// companies and users they need) into st.
func Seed(ctx context.Context, st *store.Store, o Options) (*Result, error) {
	if o.Companies <= 0 {
		o.Companies = 20
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	start := time.Now()
	res := &Result{}
	run := fmt.Sprintf("%x", time.Now().UnixNano())
	var number int64
	err := st.InTx(ctx, func(q *store.Q) error {
		for i := 0; i < o.Companies; i++ {
			c := &store.Company{Name: fmt.Sprintf("Empresa %s-%d", run, i)}
			if err := q.CreateCompany(ctx, c); err != nil {
				return err
			}
			res.Companies = append(res.Companies, c)
			for j := 0; j < 5; j++ {
				cid := c.ID
				u := &store.User{Email: fmt.Sprintf("cliente%d.%d.%s@empresa.example", i, j, run), Name: "Cliente", Role: store.RoleClient, CompanyID: &cid}
				if err := q.CreateUser(ctx, u); err != nil {
					return err
				}
				res.Clients = append(res.Clients, u)
			}
		}
		for i := 0; i < 10; i++ {
			u := &store.User{Email: fmt.Sprintf("tecnico%d.%s@helpdesk.example", i, run), Name: "Técnico", Role: store.RoleTech}
			if err := q.CreateUser(ctx, u); err != nil {
				return err
			}
			res.Techs = append(res.Techs, u)
		}
		var err error
		number, err = q.NextTicketNumber(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("seedload: users: %w", err)
	}
	statuses := []string{store.StatusNew, store.StatusOpen, store.StatusPending, store.StatusResolved, store.StatusClosed, store.StatusClosed, store.StatusClosed}
	priorities := []string{store.PriorityLow, store.PriorityNormal, store.PriorityNormal, store.PriorityHigh, store.PriorityUrgent}
	t0 := time.Now().UTC().Add(-365 * 24 * time.Hour).Truncate(time.Second)
	span := 365 * 24 * time.Hour
	var firstNumber = number
	for done := 0; done < o.Tickets; {
		n := min(o.Batch, o.Tickets-done)
		batch := make([]store.Ticket, n)
		for i := range batch {
			req := res.Clients[r.IntN(len(res.Clients))]
			at := t0.Add(time.Duration(float64(span) * float64(done+i) / float64(max(o.Tickets, 1))))
			batch[i] = store.Ticket{Number: number, CompanyID: *req.CompanyID, RequesterID: req.ID,
				Priority: priorities[r.IntN(len(priorities))], Status: statuses[r.IntN(len(statuses))],
				Subject: strings.TrimSuffix(Text(r, 3+r.IntN(5)), "."), Description: Text(r, 15+r.IntN(40)),
				Source: store.SourceEmail, CreatedAt: at, UpdatedAt: at}
			if batch[i].Status != store.StatusNew {
				batch[i].AssigneeID = &res.Techs[r.IntN(len(res.Techs))].ID
			}
			number++
		}
		if err := st.InTx(ctx, func(q *store.Q) error { return q.BulkInsertTickets(ctx, batch) }); err != nil {
			return nil, fmt.Errorf("seedload: tickets: %w", err)
		}
		done += n
		if o.Progress != nil {
			o.Progress(done, 0)
		}
	}
	if o.Tickets == 0 {
		res.Elapsed = time.Since(start)
		return res, nil
	}
	// The seeded tickets' ids and requesters, by their numbers.
	ts, err := st.R().TicketOwnersFrom(ctx, firstNumber)
	if err != nil {
		return nil, fmt.Errorf("seedload: %w", err)
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("seedload: the seeded tickets are not there")
	}
	res.FirstID = ts[0].ID
	for done := 0; done < o.Comments; {
		n := min(o.Batch, o.Comments-done)
		batch := make([]store.Comment, n)
		for i := range batch {
			tk := ts[r.IntN(len(ts))]
			author := tk.RequesterID
			internal := false
			if r.IntN(2) == 0 {
				author = res.Techs[r.IntN(len(res.Techs))].ID
				internal = r.IntN(5) == 0
			}
			batch[i] = store.Comment{TicketID: tk.ID, AuthorID: &author, BodyText: Text(r, 10+r.IntN(60)), Internal: internal,
				Source: store.SourceEmail, CreatedAt: t0.Add(time.Duration(r.Int64N(int64(span))))}
		}
		if err := st.InTx(ctx, func(q *store.Q) error { return q.BulkInsertComments(ctx, batch) }); err != nil {
			return nil, fmt.Errorf("seedload: comments: %w", err)
		}
		done += n
		if o.Progress != nil {
			o.Progress(o.Tickets, done)
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}
