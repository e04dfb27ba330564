// The minimal /etc a Linux program expects: who root and nobody are (getpwuid,
// `id`, Python's getpass), where localhost is, how names are looked up; and
// resolv.conf only for an image with a network. A file the user ships under
// the same path wins (collectRootfs adds these only where nothing is).

import type { RootfsFile } from './tree.js';

export interface EtcOptions {
  /** Name servers for /etc/resolv.conf; undefined: the image has no network, no resolv.conf. */
  nameservers?: readonly string[];
}

const FILES: Record<string, string> = {
  '/etc/passwd':
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  '/etc/group': 'root:x:0:\nnobody:x:65534:\n',
  '/etc/hosts': '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  '/etc/nsswitch.conf':
    'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n',
};

export function defaultEtcFiles(opts: EtcOptions = {}): RootfsFile[] {
  const text: Record<string, string> = { ...FILES };
  if (opts.nameservers !== undefined) {
    text['/etc/resolv.conf'] = opts.nameservers.map((ns) => `nameserver ${ns}\n`).join('');
  }
  return Object.entries(text).map(([path, t]) => {
    const data = Buffer.from(t);
    return { kind: 'file', path, mode: 0o644, size: data.length, data, origin: 'osvb default /etc' };
  });
}
