package ticketing

import (
	"slices"

	"github.com/jcservicedesk/servicedesk/store"
)

// Classifications of a closed ticket, as the technician judges it at
// close (the old app's tech_eval_category).
var Classifications = []string{"tecnico", "sistemico", "usuario", "solicitacao", "melhoria", "outro"}

var classificationLabels = map[string][2]string{ // pt-BR, en
	"tecnico":     {"Erro técnico", "Technical error"},
	"sistemico":   {"Erro sistêmico", "System error"},
	"usuario":     {"Erro do usuário", "User error"},
	"solicitacao": {"Solicitação", "Request"},
	"melhoria":    {"Melhoria", "Improvement"},
	"outro":       {"Outro", "Other"},
}

// ValidClassification reports whether c is one of Classifications.
func ValidClassification(c string) bool { return slices.Contains(Classifications, c) }

// ClassificationLabel names c in lang ("en" or anything else: pt-BR).
func ClassificationLabel(c, lang string) string {
	l, ok := classificationLabels[c]
	if !ok {
		return c
	}
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

// redactInternal blanks what only staff may see of a ticket: the close
// evaluation. The caller passes its own copy.
func redactInternal(t *store.Ticket) {
	t.TechEvaluation, t.Classification = "", ""
}
