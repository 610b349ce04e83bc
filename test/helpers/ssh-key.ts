// Test key pairs that ssh2 can read back. ssh2's generateKeyPairSync('ed25519') makes about 1 key in
// 270 that its own parser rejects (a public key with a leading zero byte); a test must not fail on it.
import ssh2 from 'ssh2';

const {utils} = ssh2;

export function usableKeyPair(type: 'ed25519' | 'ecdsa' | 'rsa', options: Record<string, unknown> = {}): {private: string; public: string} {
  const generate = utils.generateKeyPairSync as (type: string, options: Record<string, unknown>) => {private: string; public: string};
  const defaults = type === 'ecdsa' ? {bits: 256} : type === 'rsa' ? {bits: 2048} : {};
  for (let attempt = 0; ; attempt++) {
    const pair = generate(type, {...defaults, ...options});
    const passphrase = typeof options.passphrase === 'string' ? options.passphrase : undefined;
    const privateOk = !(utils.parseKey(pair.private, passphrase) instanceof Error);
    const publicOk = !(utils.parseKey(pair.public) instanceof Error);
    if ((privateOk && publicOk) || attempt >= 20) return pair;
  }
}
