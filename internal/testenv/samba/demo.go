package samba

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// DemoUsers returns the sample users of CreateDemoOU: 40 users, among them
// disabled ones, an expired one, non-ASCII names (Zoë, Ångström, Łukasz,
// Müller...) and a CN with a comma. sAMAccountNames get the given prefix.
func DemoUsers(prefix string) []User {
	people := []struct{ given, sur string }{
		{"Zoë", "Ångström"}, {"Łukasz", "Müller"}, {"José", "Núñez"}, {"Søren", "Kierkegård"},
		{"Amélie", "Poulain"}, {"Björk", "Guðmundsdóttir"}, {"François", "Lefèvre"}, {"Małgorzata", "Wójcik"},
		{"Jürgen", "Groß"}, {"Chloé", "Dubois"}, {"Ana", "García"}, {"Mikko", "Häkkinen"},
		{"Ines", "Çelik"}, {"Ole", "Ødegaard"}, {"Eva", "Novák"}, {"Priya", "Patel"},
		{"Wei", "Zhang"}, {"Yuki", "Tanaka"}, {"Olga", "Ivanova"}, {"Liam", "O'Brien"},
		{"Noah", "Schmidt"}, {"Emma", "Johansson"}, {"Lucas", "Silva"}, {"Mia", "Rossi"},
		{"Ava", "Kowalski"}, {"Ethan", "Nguyen"}, {"Sofia", "Costa"}, {"Leo", "Bianchi"},
		{"Nina", "Horvat"}, {"Omar", "Haddad"}, {"Sara", "Cohen"}, {"Tom", "Baker"},
		{"Ivy", "Chen"}, {"Max", "Weber"}, {"Ella", "Berg"}, {"Jack", "Taylor"},
		{"Lena", "Fischer"}, {"Hugo", "Martin"},
	}
	users := make([]User, 0, len(people)+2)
	for i, p := range people {
		sam := fmt.Sprintf("%s%02d", prefix, i+1)
		users = append(users, User{
			CN: p.given + " " + p.sur, SAM: sam, GivenName: p.given, Surname: p.sur,
			DisplayName: p.given + " " + p.sur, Mail: strings.ToLower(sam) + "@example.com",
			UPN: sam + "@" + sambaUPNSuffix, Disabled: i%9 == 4,
		})
	}
	users = append(users,
		User{CN: "Smith, John", SAM: prefix + "js", GivenName: "John", Surname: "Smith",
			DisplayName: "Smith, John", Mail: "john.smith@example.com", UPN: prefix + "js@" + sambaUPNSuffix},
		User{CN: "Expired Contractor", SAM: prefix + "ex", GivenName: "Expired", Surname: "Contractor",
			UPN: prefix + "ex@" + sambaUPNSuffix, AccountExpires: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
	)
	return users
}

// CreateDemoOU (re)creates OU=<name> under the base DN with DemoUsers and
// a group "Demo Staff" holding the first ten; it returns the OU's DN.
func (dc *DC) CreateDemoOU(name string) (string, []User, error) {
	ou := "OU=" + ldap.EscapeDN(name) + "," + dc.BaseDN
	users := DemoUsers(demoPrefix(name))
	err := dc.withConn(func(c *ldap.Conn) error {
		if err := deleteTree(c, ou); err != nil {
			return err
		}
		req := ldap.NewAddRequest(ou, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		if err := c.Add(req); err != nil {
			return fmt.Errorf("add %s: %w", ou, err)
		}
		var members []string
		for i, u := range users {
			dn := "CN=" + ldap.EscapeDN(u.CN) + "," + ou
			if err := c.Add(adUserAddRequest(dn, u)); err != nil {
				return fmt.Errorf("add %s: %w", dn, err)
			}
			if i < 10 {
				members = append(members, dn)
			}
		}
		g := ldap.NewAddRequest("CN=Demo Staff,"+ou, nil)
		g.Attribute("objectClass", []string{"group"})
		g.Attribute("sAMAccountName", []string{demoPrefix(name) + "-staff"})
		g.Attribute("member", members)
		if err := c.Add(g); err != nil {
			return fmt.Errorf("add group: %w", err)
		}
		return nil
	})
	return ou, users, err
}

// demoPrefix derives a short sAMAccountName prefix from an OU name.
func demoPrefix(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') && b.Len() < 12 {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "demo"
	}
	return b.String()
}
