package ticketing

// EmitAccount queues the account mail m in tx: the TxHooks (the outbound
// mail) see an EventAccount now, inside the transaction, so the mail
// commits with the change that asked for it (a token, a code) or not at
// all; the listeners hear of it after the commit. The event has no Ticket.
func (tx *Tx) EmitAccount(m *AccountMail) {
	tx.emit(Event{Kind: EventAccount, Account: m})
}
