import { ApiDoc } from '../admin-openapi.js';
import { CLIENT_KEY_SCHEMA, IsClientKey } from './admin-validators.js';

/** Route parameters of `GET /clients/:key`. */
export class ClientParams {
  @ApiDoc({
    description: 'Client key: the address key the guard computed (`203.0.113.7`, `2001:db8:1:2::/64`, URL-encoded) or a custom identity.',
    ...CLIENT_KEY_SCHEMA,
  })
  @IsClientKey()
  key!: string;
}
