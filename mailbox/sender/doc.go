// Package sender delivers the outbox: it claims queued messages from a Queue
// (the transactional outbox the store implements), hands them to an SMTP relay
// over a few reused connections, and marks each one Sent, Retry or Failed.
//
// Delivery is at-least-once. A message is marked only after the relay has
// accepted it; when marking fails (database down, process killed) the message
// stays claimed, its lease ends and it is delivered again. The receiving side
// de-duplicates on the Message-ID header that every queued message carries.
// Within one claim a message is never offered to the relay twice, and a
// message whose lease is about to end is skipped rather than sent, so two
// senders on one database never deliver the same message at the same time.
//
// A message may be queued before its bytes exist (Raw empty): the change
// that queued it left rendering and signing until after its commit. When
// the Queue is a Renderer, a worker renders such a message, and the queue
// stores the bytes, before it is sent; a message that will never render
// fails with the reason.
//
// Results are classified from the relay's replies:
//   - 2xx after DATA: Sent.
//   - 5xx at MAIL FROM or DATA, or 5xx for every recipient: Failed, with the
//     server's text.
//   - 5xx for some recipients only: the message goes to the others and is
//     still Sent; the refused recipients are passed to the Queue when it
//     implements PartialRecorder, and logged at warn level in any case.
//   - 4xx (for any recipient too, so nobody gets the message before the
//     others can), connection, TLS, AUTH and timeout errors: Retry after
//     BackoffBase·2^(attempts-1) (capped at BackoffMax, ±20 % jitter) until the
//     message is older than MaxAge, then Failed ("gave up after N attempts").
package sender
