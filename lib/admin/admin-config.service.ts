import { HttpStatus, Injectable } from '@nestjs/common';
import { RateLimitPolicy } from '../config-file/rate-limit-policy.js';
import * as configMessages from '../errors/config-file-messages.js';
import { AdminProblemException } from './admin-problem.js';
import type { AdminConfigView, AdminReloadView } from './dto/config-views.dto.js';

/** The configuration in force and its reload, for the admin API (on the instance that answers). */
@Injectable()
export class AdminConfigService {
  constructor(private readonly policy: RateLimitPolicy) {}

  config(): AdminConfigView {
    return this.policy.describe() as unknown as AdminConfigView;
  }

  /**
   * Reloads the configuration file.
   *
   * @throws AdminProblemException 409 without a configuration file, 422 (every problem in `errors`)
   *   for an invalid one, which changes nothing
   */
  async reload(): Promise<AdminReloadView> {
    const result = await this.policy.reload('admin');
    if (result.status === 'no-file') throw new AdminProblemException(HttpStatus.CONFLICT, configMessages.adminNoConfigFile());
    if (result.status === 'invalid') {
      throw new AdminProblemException(
        HttpStatus.UNPROCESSABLE_ENTITY,
        configMessages.adminReloadRefused(result.version, result.problems.length),
        result.problems,
      );
    }
    return result.status === 'reloaded'
      ? { status: result.status, version: result.version, hash: result.hash, restartNeeded: [...result.restartNeeded] }
      : { status: result.status, version: result.version, hash: result.hash };
  }
}
