/**
 * `nest-rampart/admin`: the admin REST API as its own module. Needs class-validator and
 * class-transformer (optional peers of the package, needed only here).
 */
export { RateLimitAdminModule } from './rate-limit-admin.module.js';
export type { AdminRequest, RateLimitAdminOptions, RateLimitAdminModuleOptions } from './admin-options.interface.js';
export { AdminService } from './admin.service.js';
export type { AdminProblem } from './admin-problem.js';
export type {
  AdminAccessEntryView,
  AdminAccessList,
  AdminBanPage,
  AdminBanView,
  AdminClientView,
  AdminCounterView,
  AdminLiftResult,
  AdminViolationPage,
  AdminViolationView,
} from './dto/views.dto.js';
export { AdminAdaptiveView } from './dto/adaptive-view.dto.js';
