package sender

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// writeOutbox stores m as <OutboxDir>/<time>-<id>.eml instead of sending it.
// A temp file renamed into place means a reader never sees half a message.
func (s *Sender) writeOutbox(m Message) result {
	if err := s.writeEML(m); err != nil {
		return result{err: fmt.Errorf("sender: suppress_send: %w", err)}
	}
	return result{}
}

func (s *Sender) writeEML(m Message) error {
	dir := s.cfg.OutboxDir
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%d.eml", time.Now().UTC().Format("20060102T150405.000000000Z"), m.ID)
	tmp, err := os.CreateTemp(dir, ".tmp-*.eml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(m.Raw); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	path := filepath.Join(dir, name)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	s.log.Info("mail suppressed: written to outbox dir", "path", path, "id", m.ID,
		"message_id", m.MessageID, "from", m.From, "to", m.To)
	return nil
}
