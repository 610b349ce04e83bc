// Every test file runs with its own HOME and XDG dirs, so nothing reads or writes the real
// user's config, credentials or SSH keys, and no VAST_API_KEY from the shell leaks in.
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const home = mkdtempSync(join(tmpdir(), 'vastdeck-test-home-'));
process.env.HOME = home;
process.env.XDG_CONFIG_HOME = join(home, '.config');
process.env.XDG_DATA_HOME = join(home, '.local', 'share');
process.env.XDG_STATE_HOME = join(home, '.local', 'state');
delete process.env.VAST_API_KEY;
delete process.env.VAST_URL;
process.env.NO_COLOR = '1';
// Ink draws nothing but the last frame when it believes it runs in CI (is-in-ci, read when ink
// loads); the tests look at every frame, as a user's terminal shows them, so CI=true from the CI
// runner must not reach it.
process.env.CI = '0';
