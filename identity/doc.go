// Package identity holds a hiso device's secrets: its Ed25519 device key and
// the key of its local history database.
//
// The device key is the libp2p identity of the node; its peer ID is the
// address other people use to reach this user. The database key is 256
// random bits used only to encrypt the local message history. Both live
// together in one small keystore file, sealed with XChaCha20-Poly1305 under a
// key derived from the user's passphrase with argon2id (RFC 9106 parameters,
// recorded in the file header so they can be raised later).
//
// The package never touches the network. Create writes a new keystore
// atomically and never overwrites an existing one; Open only reads; Destroy
// overwrites the file with random bytes and unlinks it when a user logs out.
// Seal and Unseal are the byte-level forms of the same format.
//
// # File format
//
// All integers are big-endian. The file is always exactly 137 bytes:
//
//	offset size field
//	0      8    magic "HISOKEY1" (the final byte is the format version)
//	8      4    argon2id time (iterations), 1..64
//	12     4    argon2id memory in KiB, 8*threads..4194304 (4 GiB)
//	16     1    argon2id threads (parallelism), >= 1
//	17     16   salt, random
//	33     24   nonce, random
//	57     80   ciphertext = XChaCha20-Poly1305(
//	                key   = argon2.IDKey(passphrase, salt, time, memory, threads, 32),
//	                nonce = nonce,
//	                plaintext = ed25519 seed (32) || database key (32),
//	                additional data = bytes 0..57 (the whole header))
//
// Because the header is authenticated, tampering with the parameters, salt
// or nonce is reported as a wrong passphrase. Parameters outside the bounds
// above are rejected as corrupt before any key derivation runs, so a hostile
// file cannot make us allocate absurd amounts of memory or spin for hours.
package identity
