import { applyDecorators } from '@nestjs/common';
import { ApiDoc } from '../admin-openapi.js';
import { FORCE_DOC, IsJsonBoolean, Optional } from './admin-validators.js';

/** The optional `force` flag of a body that names a range: true accepts a range wider than /8 or /32. */
export const ForceField = (): PropertyDecorator =>
  applyDecorators(ApiDoc({ description: FORCE_DOC, type: 'boolean', required: false, default: false }), IsJsonBoolean(), Optional());
