package signin

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The dummy hash costs what a real one does, so an unknown name takes as
// long as a wrong password.
func TestDummyHashHasTheCostOfARealOne(t *testing.T) {
	if c, err := bcrypt.Cost(dummyHash); err != nil || c != cost {
		t.Fatalf("dummy hash cost %d (%v), want %d", c, err, cost)
	}
}
