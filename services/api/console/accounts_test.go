package console

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// A row of the account search, written without html/template, reads in a
// browser as the account's values, whatever they hold: each cell's text
// is the value, the link goes to the account's page, and nothing else is
// markup.
func TestAccountRowIsEscaped(t *testing.T) {
	hostile := `<script>alert("x")</script> & 'q' "d" +1`
	cases := []struct {
		name      string
		account   events.Account
		groups    []string
		wantCells []string
		wantHref  string
	}{
		{"plain", events.Account{Domain: "corp", ExternalID: "0b6b1c6e-6a4f-4c1e-9d2b-000000000001", LocalName: "ada@corp",
			DisplayName: "Ada L", Email: "ada@example.org", Active: true}, []string{"staff", "admins"},
			[]string{"ada@corp", "Ada L", "ada@example.org", "yes", "staff, admins"}, "/accounts/corp/0b6b1c6e-6a4f-4c1e-9d2b-000000000001"},
		{"hostile values", events.Account{Domain: "co rp/x", ExternalID: `a"b/c?d#e`, LocalName: hostile, DisplayName: hostile,
			Email: hostile, InactiveReason: hostile}, []string{hostile, "g"},
			[]string{hostile, hostile, hostile, "no (" + hostile + ")", hostile + ", g"}, `/accounts/co%20rp%2Fx/a%22b%2Fc%3Fd%23e`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row := rowOf(accounts.UserRecord{Account: func() events.Account { a := c.account; a.Groups = c.groups; return a }()})
			doc, err := html.Parse(strings.NewReader("<table><tbody>" + string(row) + "</tbody></table>"))
			if err != nil {
				t.Fatal(err)
			}
			var cells []string
			var hrefs []string
			elements := 0
			var walk func(n *html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					switch n.Data {
					case "td":
						cells = append(cells, textOf(n))
					case "a":
						for _, a := range n.Attr {
							if a.Key == "href" {
								hrefs = append(hrefs, a.Val)
							}
						}
					}
					if n.Data != "html" && n.Data != "head" && n.Data != "body" && n.Data != "table" && n.Data != "tbody" {
						elements++
					}
				}
				for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
					walk(ch)
				}
			}
			walk(doc)
			if strings.Join(cells, "|") != strings.Join(c.wantCells, "|") {
				t.Errorf("cells %q, want %q", cells, c.wantCells)
			}
			if len(hrefs) != 1 || hrefs[0] != c.wantHref {
				t.Errorf("links %q, want [%q]", hrefs, c.wantHref)
			}
			if elements != 7 { // tr, five td, a
				t.Errorf("%d elements in the row, want 7: %s", elements, row)
			}
		})
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(n)
	return b.String()
}
