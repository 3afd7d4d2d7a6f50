package main

import (
	"fmt"
	"testing"
)

// TestCLICompanyShareTickets: new companies start not sharing;
// --share-tickets[=false] turns it on and off, and the deprecated
// --isolated still means --share-tickets=false.
func TestCLICompanyShareTickets(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		var co struct {
			ID           int64  `json:"id"`
			Name         string `json:"name"`
			ShareTickets bool   `json:"share_tickets"`
		}
		c.ok(&co, "company", "add", "--name", "Acme", "--domain", "acme.example")
		if co.ShareTickets {
			t.Fatalf("a new company shares: %+v", co)
		}
		acme := fmt.Sprint(co.ID)
		c.ok(&co, "company", "add", "--name", "Globex", "--share-tickets")
		if !co.ShareTickets {
			t.Fatalf("--share-tickets on add: %+v", co)
		}
		for _, tc := range []struct {
			args []string
			want bool
		}{
			{[]string{"--share-tickets"}, true},
			{[]string{"--name", "Acme Ltda"}, true}, // other flags leave it
			{[]string{"--share-tickets=false"}, false},
			{[]string{"--share-tickets=true"}, true},
			{[]string{"--isolated"}, false},
		} {
			c.ok(&co, append([]string{"company", "update", acme}, tc.args...)...)
			if co.ShareTickets != tc.want {
				t.Fatalf("%v: share_tickets = %v", tc.args, co.ShareTickets)
			}
		}
	})
}
