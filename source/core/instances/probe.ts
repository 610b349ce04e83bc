// The authenticated HTTP probe of ComfyUI through the instance portal: GET /system_stats with the
// portal token as a Bearer header (never in the URL). A 200 with ComfyUI's JSON means it answers.
import got from 'got';

export interface ComfyProbe {
  ok: boolean;
  /** HTTP status, when there was an answer (502 while ComfyUI starts, 401 for a wrong token). */
  status?: number;
}

export type ProbeFunction = (comfyuiUrl: string, token: string) => Promise<ComfyProbe>;

export const probeComfy: ProbeFunction = async (comfyuiUrl, token) => {
  try {
    const response = await got(`${comfyuiUrl.replace(/\/$/, '')}/system_stats`, {
      headers: {authorization: `Bearer ${token}`, accept: 'application/json'},
      timeout: {request: 5000},
      retry: {limit: 0},
      throwHttpErrors: false,
      followRedirect: false,
    });
    if (response.statusCode !== 200) return {ok: false, status: response.statusCode};
    const body: unknown = JSON.parse(response.body);
    const looksRight = typeof body === 'object' && body !== null && 'system' in body;
    return {ok: looksRight, status: response.statusCode};
  } catch {
    return {ok: false};
  }
};
