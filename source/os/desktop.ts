// The desktop's opener (xdg-open) for a URL or a folder: an OS helper, kept out of the service
// layer (core receives it as a function). Returns false when there is no desktop to open it on.
import {spawn} from 'node:child_process';

export type Opener = (target: string) => boolean;

export function desktopOpener(env: NodeJS.ProcessEnv = process.env): Opener {
  return target => {
    if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return false;
    const child = spawn('xdg-open', [target], {stdio: 'ignore', detached: true});
    child.on('error', () => {});
    child.unref();
    return true;
  };
}
