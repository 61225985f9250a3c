import { ApiDoc } from '../admin-openapi.js';
import { CLIENT_KEY_SCHEMA, IsClientKey } from './admin-validators.js';

/** Route parameters of `GET /clients/:key`. */
export class ClientParams {
  @ApiDoc({
    description:
      'Client key: an address as the guard keys it (`203.0.113.7`, `2001:db8:1:2::/64`, URL-encoded) or an identity (`user-42`); ' +
      '`id:<identity>` names an identity whatever its text (`id:198.51.100.7`).',
    ...CLIENT_KEY_SCHEMA,
  })
  @IsClientKey()
  key!: string;
}
