package parse

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

const corpusDir = "../testdata"

// summary is the stable, reviewable form of a parse result.
type summary struct {
	MessageID       string              `json:"message_id"`
	InReplyTo       []string            `json:"in_reply_to,omitempty"`
	References      []string            `json:"references,omitempty"`
	Subject         string              `json:"subject"`
	From            Address             `json:"from"`
	FromSource      string              `json:"from_source,omitempty"` // when not the From field
	PartsOmitted    int                 `json:"parts_omitted,omitempty"`
	Sender          *Address            `json:"sender,omitempty"`
	ReplyTo         []Address           `json:"reply_to,omitempty"`
	To              []Address           `json:"to,omitempty"`
	Cc              []Address           `json:"cc,omitempty"`
	Date            string              `json:"date,omitempty"`
	Text            string              `json:"text"`
	NewText         string              `json:"new_text"`
	Quoted          bool                `json:"quoted"`
	HTML            string              `json:"html,omitempty"`
	NewHTML         string              `json:"new_html,omitempty"`
	HasRemoteImages bool                `json:"has_remote_images,omitempty"`
	Attachments     []attachmentSummary `json:"attachments,omitempty"`
	Warnings        []string            `json:"warnings,omitempty"`
}

type attachmentSummary struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	ContentID   string `json:"content_id,omitempty"`
	Inline      bool   `json:"inline,omitempty"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256,omitempty"`
	Omitted     bool   `json:"omitted,omitempty"`
}

func summarize(m *Message) summary {
	s := summary{
		MessageID: m.MessageID, InReplyTo: m.InReplyTo, References: m.References,
		Subject: m.Subject, From: m.From, Sender: m.Sender, ReplyTo: m.ReplyTo, To: m.To, Cc: m.Cc,
		Text: m.Text, NewText: m.NewText, Quoted: m.Quoted, HTML: m.HTML, HasRemoteImages: m.HasRemoteImages,
		Warnings: m.Warnings, PartsOmitted: m.PartsOmitted,
	}
	if m.FromSource != FromHeader {
		s.FromSource = m.FromSource
	}
	if m.NewHTML != m.HTML {
		s.NewHTML = m.NewHTML
	}
	if !m.Date.IsZero() {
		s.Date = m.Date.Format(time.RFC3339)
	}
	for _, a := range m.Attachments {
		as := attachmentSummary{Filename: a.Filename, ContentType: a.ContentType, ContentID: a.ContentID,
			Inline: a.Inline, Size: a.Size, Omitted: a.Omitted}
		if a.Data != nil {
			h := sha256.Sum256(a.Data)
			as.SHA256 = hex.EncodeToString(h[:])
		}
		s.Attachments = append(s.Attachments, as)
	}
	return s
}

func corpusFiles(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("corpus has %d .eml files, want at least 20", len(files))
	}
	return files
}

// TestGolden parses every .eml of the shared corpus (also fixtures other
// packages add) and compares a JSON summary with testdata/golden.
func TestGolden(t *testing.T) {
	for _, f := range corpusFiles(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw, Limits{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // keep HTML in goldens readable
			enc.SetIndent("", "  ")
			if err := enc.Encode(summarize(m)); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if os.IsNotExist(err) {
				t.Fatalf("no golden file %s: run go test ./mailbox/parse -run TestGolden -update and review it", golden)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parse summary differs from %s (run with -update and review the diff):\n%s", golden, got)
			}
		})
	}
}
