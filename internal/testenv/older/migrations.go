package older

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/adsync/adsync/internal/infra/sqlite"
	"github.com/adsync/adsync/schemas"
)

// Store opens (creating) a store's database at path migrated up to,
// not including, migration name ("0007": up to 0006): the store as an older
// version left it, for tests of an upgrade. The caller closes it.
func Store(t testing.TB, path, store, name string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, Migrations(t, store, name))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// Migrations returns a store's migrations whose file names sort
// before name ("0007": those up to 0006): the store as an older version
// left it, for tests of an upgrade.
func Migrations(t testing.TB, store, name string) fs.FS {
	t.Helper()
	all, err := schemas.Migrations(store)
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(all, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	older := fstest.MapFS{}
	for _, f := range files {
		if f >= name {
			continue
		}
		data, err := fs.ReadFile(all, f)
		if err != nil {
			t.Fatal(err)
		}
		older[f] = &fstest.MapFile{Data: data}
	}
	if len(older) == 0 {
		t.Fatalf("no %s migration before %s", store, name)
	}
	return older
}
