// Package older gives upgrade tests adsync as it was before the newest
// migration: its binary, built from the git history (Adsync), and a store
// migrated only that far (Store, Migrations).
package older
