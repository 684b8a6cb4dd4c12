import AssignmentService
import Foundation
import ServiceRuntime

await ServiceLauncher.main(AssignmentService.self, environment: ProcessInfo.processInfo.environment)
