package admin

import (
	"context"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/signin"
)

// AddConsoleAdmin creates a local administrator of the console.
func (o *Ops) AddConsoleAdmin(ctx context.Context, actor events.Actor, name, role, password string) error {
	if err := signin.Check(name, role, password); err != nil {
		return &Error{Kind: Invalid, Err: err}
	}
	if err := o.Admins.Add(ctx, name, role, password); err != nil {
		return err
	}
	return o.record(ctx, actor, "admin.add", name, nil, signin.Admin{Name: name, Role: role}, "")
}

// SetConsolePassword changes a local administrator's password.
func (o *Ops) SetConsolePassword(ctx context.Context, actor events.Actor, name, password string) error {
	if err := signin.Check(name, "", password); err != nil {
		return &Error{Kind: Invalid, Err: err}
	}
	if err := o.Admins.SetPassword(ctx, name, password); err != nil {
		return err
	}
	return o.record(ctx, actor, "admin.passwd", name, nil, nil, "password changed")
}

// RemoveConsoleAdmin deletes a local administrator.
func (o *Ops) RemoveConsoleAdmin(ctx context.Context, actor events.Actor, name string) error {
	a, _, err := o.Admins.Get(ctx, name)
	if err != nil {
		return err
	}
	if err := o.Admins.Remove(ctx, name); err != nil {
		return err
	}
	a.Hash = ""
	return o.record(ctx, actor, "admin.remove", name, a, nil, "")
}
