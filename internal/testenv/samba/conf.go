package samba

import (
	"fmt"
	"os"
	"strings"
)

// confSetting is one "key = value" line of smb.conf's [global] section.
type confSetting struct{ key, value string }

// setGlobalOptions rewrites smb.conf so that [global] holds exactly the given
// settings: existing lines with the same keys are removed (Samba ignores a
// second line for a key, so appending is not enough) and the new ones are
// inserted right after the [global] header.
func setGlobalOptions(path string, settings []confSetting) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read smb.conf: %w", err)
	}
	replace := make(map[string]bool, len(settings))
	for _, s := range settings {
		replace[normaliseConfKey(s.key)] = true
	}

	var out []string
	section, sawGlobal := "", false
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "[") && strings.HasSuffix(trimmed, "]") {
			section = strings.ToLower(strings.Trim(trimmed, "[]"))
			out = append(out, line)
			if section == "global" {
				sawGlobal = true
				for _, s := range settings {
					out = append(out, fmt.Sprintf("\t%s = %s", s.key, s.value))
				}
			}
			continue
		}
		if section == "global" {
			if key, _, ok := strings.Cut(trimmed, "="); ok && replace[normaliseConfKey(key)] {
				continue
			}
		}
		out = append(out, line)
	}
	if !sawGlobal {
		return fmt.Errorf("smb.conf %s has no [global] section", path)
	}
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		return fmt.Errorf("write smb.conf: %w", err)
	}
	return nil
}

// normaliseConfKey folds case and whitespace like Samba's parser does.
func normaliseConfKey(k string) string {
	return strings.Join(strings.Fields(strings.ToLower(k)), "")
}
