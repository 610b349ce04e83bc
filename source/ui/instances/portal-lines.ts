// The portal URLs and token, shown only after the user presses p (the token opens ComfyUI and the
// Instance Portal to anyone who has it). The first line says so, so a screenshot is a conscious act.
import type {FleetController} from '../../core/deck-types.js';

export interface PortalLine {
  text: string;
  tone: 'secret' | 'muted';
}

type PortalSecret = ReturnType<FleetController['portalSecret']>;

export function portalLines(secret: PortalSecret): PortalLine[] {
  if (!secret) return [{text: 'No portal token yet: it appears once the instance runs and reports its ports. p hides this.', tone: 'muted'}];
  return [
    {text: 'SECRET (p hides it): this token opens ComfyUI and the Instance Portal to anyone.', tone: 'secret'},
    {text: `Token    ${secret.token}`, tone: 'secret'},
    ...(secret.comfyui ? [{text: `ComfyUI  ${secret.comfyui}`, tone: 'secret' as const}] : []),
    ...(secret.instancePortal ? [{text: `Portal   ${secret.instancePortal}`, tone: 'secret' as const}] : []),
  ];
}
