package engine

import "github.com/cockroachdb/pebble/v2/vfs"

// WriteFileSync creates (or truncates) path on fs, writes data and syncs the file, so the data
// is on disk when it returns. The directory entry is not synced: see SyncDir.
func WriteFileSync(fs vfs.FS, path string, data []byte) error {
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
