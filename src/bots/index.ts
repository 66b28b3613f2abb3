export { type CredentialFinding, checkPlatformCredentials } from './credentials.js';
