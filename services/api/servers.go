package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/adsync/adsync/internal/presence"
)

// listServers is every live adsync process: host, services, version,
// whether it can be a job server, its last heartbeat.
func (s *Service) listServers(w http.ResponseWriter, r *http.Request) {
	list, err := s.servers(r.Context())
	if err != nil {
		writeOpError(w, err)
		return
	}
	slices.SortFunc(list, func(a, b presence.Heartbeat) int { return strings.Compare(a.Host+a.ID, b.Host+b.ID) })
	if list == nil {
		writeJSON(w, http.StatusOK, []any{})
		return
	}
	writeJSON(w, http.StatusOK, list)
}
