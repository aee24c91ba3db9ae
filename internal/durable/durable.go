// Package durable makes files and directories durable on a vfs.FS: written and synced, with the
// directory entries that name them synced too, so a crash keeps what was acknowledged.
package durable

import "github.com/cockroachdb/pebble/v2/vfs"

// WriteFile creates (or truncates) path on fs, writes data and syncs the file, so the data
// is on disk when it returns. The directory entry is not synced: see SyncDir.
func WriteFile(fs vfs.FS, path string, data []byte) error {
	f, err := fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SyncDir syncs the directory dir, making the files created, renamed or removed in it durable.
func SyncDir(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// MkdirAll creates dir and any missing parents, syncing the parent of each directory it
// creates: a new directory's entry is not durable until its parent is synced, and a crash
// would otherwise lose the directory with everything synced inside it.
func MkdirAll(fs vfs.FS, dir string) error {
	if _, err := fs.Stat(dir); err == nil {
		return nil
	}
	parent := fs.PathDir(dir)
	if parent != dir {
		if err := MkdirAll(fs, parent); err != nil {
			return err
		}
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if parent == dir {
		return nil
	}
	return SyncDir(fs, parent)
}

// Replace replaces path with data atomically and durably: a crash leaves the old contents or
// the new, never a mix.
func Replace(fs vfs.FS, path string, data []byte) error {
	tmp := path + ".tmp"
	if err := WriteFile(fs, tmp, data); err != nil {
		return err
	}
	if err := fs.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(fs, fs.PathDir(path))
}
