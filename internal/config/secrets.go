package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Env looks up an environment variable; main passes os.LookupEnv.
type Env func(key string) (string, bool)

// Secret reads a secret from a file (first line, trailing newline removed)
// or an environment variable. The value never appears in errors.
func Secret(file, envName string, env Env) (string, error) {
	switch {
	case file != "":
		raw, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read secret file %s: %w", file, errors.Unwrap(err))
		}
		v := strings.TrimRight(string(raw), "\r\n")
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", file)
		}
		return v, nil
	case envName != "":
		v, ok := env(envName)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", envName)
		}
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty", envName)
		}
		return v, nil
	}
	return "", nil
}

// BindPasswordValue returns a domain's bind password. An empty password is an
// error: it would be an unauthenticated bind.
func (d Domain) BindPasswordValue(env Env) (string, error) {
	v, err := Secret(d.BindPasswordFile, d.BindPasswordEnv, env)
	if err != nil {
		return "", fmt.Errorf("domain %q: bind password: %w", d.Name, err)
	}
	if v == "" {
		return "", fmt.Errorf("domain %q: bind password is empty; refusing an unauthenticated bind", d.Name)
	}
	return v, nil
}
