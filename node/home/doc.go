// Package home is one device's home directory and the life of its owner:
// where its files are (Paths), the flock that makes one process the owner
// (Lock), and opening, serving, closing and destroying what lives there
// (Home). The daemon, the terminal UI and the CLI without a running owner
// all open a home through it.
package home
