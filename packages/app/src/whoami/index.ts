export { whoAmIPlugin } from './plugin';
