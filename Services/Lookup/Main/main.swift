import LookupService
import Foundation
import ServiceRuntime

await ServiceLauncher.main(LookupService.self, environment: ProcessInfo.processInfo.environment)
