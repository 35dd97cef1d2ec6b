// After `npm install`: put ldm, ldoms and ldmd on PATH (symlinks in /usr/local/bin when it is
// writable, else in ~/.local/bin), so that scripts can call `ldm` by name.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const candidates = ['/usr/local/bin', path.join(os.homedir(), '.local', 'bin')];
const target = candidates.find((d) => {
  try {
    fs.mkdirSync(d, { recursive: true });
    fs.accessSync(d, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
});
if (!target) {
  console.log(`ldoms: add ${path.join(root, 'bin')} to your PATH to use ldm, ldoms and ldmd`);
  process.exit(0);
}
for (const name of ['ldm', 'ldoms', 'ldmd', 'ldmp2v', 'ldmconfig']) {
  const link = path.join(target, name);
  const src = path.join(root, 'bin', name);
  try {
    const st = fs.lstatSync(link);
    // Never replace a real program of the same name; only our own earlier links.
    if (!st.isSymbolicLink()) {
      console.log(`ldoms: ${link} exists and is not a link; leaving it alone`);
      continue;
    }
    fs.unlinkSync(link);
  } catch {
    /* absent */
  }
  fs.symlinkSync(src, link);
}
console.log(`ldoms: ldm, ldoms, ldmd, ldmp2v and ldmconfig linked into ${target}`);
if (!(process.env.PATH ?? '').split(':').includes(target)) console.log(`ldoms: add ${target} to your PATH`);
