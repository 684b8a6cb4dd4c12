import ArgumentParser
import Foundation
import NIOCore
import Protos
import RPC

/// Who may change numbers in inventory, for the help texts.
let inventoryWriters = "Platform admins; org owners and admins for numbers their organisation owns."

extension Numbers {
    struct UpdateNumber: ServiceCommand {
        static let configuration = CommandConfiguration(
            commandName: "update",
            abstract: "Change a number's descriptive fields; only the flags given are changed.",
            discussion: inventoryWriters + " Changing the owner (or --pool) is for platform admins.")

        @OptionGroup var number: NumberArgument
        @Option(help: "Region text, e.g. \"London\".") var region: String?
        @Option(help: "Provider, e.g. twilio.") var provider: String?
        @Option(help: "The provider's id of the number (Twilio: PN…).") var providerNumberId: String?
        @Option(help: "SIP trunk id (Twilio: TK…).") var trunkId: String?
        @Option(help: "VAPI phone-number id.") var vapiPhoneNumberId: String?
        @Option(help: "Comma-separated: voice,sms,mms,fax.") var capabilities: String?
        @Option(help: "Monthly cost, e.g. 1.15 (with --currency).") var monthlyCost: String?
        @Option(help: "ISO 4217 currency of --monthly-cost, e.g. USD.") var currency = ""
        @Option(help: "Free-text label.") var label: String?
        @Option(help: "Organisation that owns the number itself.") var owner: String?
        @Flag(help: "Put the number back in the platform pool (no owner).") var pool = false
        @Option(help: "Fail with ABORTED unless the number is at this version.") var expectedVersion: Int64 = 0
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var patch = InventoryV1.NumberPatch()
            var mask: [String] = []
            func set(_ value: String?, _ name: String, _ apply: (String) -> Void) {
                guard let value else { return }
                apply(value)
                mask.append(name)
            }
            set(region, "region") { patch.region = $0 }
            set(provider, "provider") { patch.provider = $0 }
            set(label, "label") { patch.label = $0 }
            set(owner ?? (pool ? "" : nil), "owner_organization_id") { patch.ownerOrganizationId = $0 }
            if providerNumberId != nil || trunkId != nil || vapiPhoneNumberId != nil {
                var ids = InventoryV1.ProviderIds()
                ids.providerNumberId = providerNumberId ?? ""
                ids.trunkId = trunkId ?? ""
                ids.vapiPhoneNumberId = vapiPhoneNumberId ?? ""
                patch.providerIds = ids
                mask.append("provider_ids")
            }
            if let capabilities {
                patch.capabilities = try CapabilityList.parse(capabilities, field: "--capabilities")
                mask.append("capabilities")
            }
            if let monthlyCost {
                patch.monthlyCostMicros = try Parse.micros(monthlyCost, field: "--monthly-cost")
                patch.currency = currency
                mask.append("monthly_cost")
            }
            guard !mask.isEmpty else { throw ValidationError("name at least one field to change (see --help)") }
            var request = InventoryV1.UpdateNumberRequest()
            request.id = try await number.id(in: session)
            request.expectedVersion = expectedVersion
            request.patch = patch
            request.updateMask = mask
            let response = try await session.call(.inventory, "UpdateNumber", request, as: InventoryV1.NumberResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { NumberViews.changed(response) }
        }
    }

    struct RetireNumber: ServiceCommand {
        static let configuration = CommandConfiguration(
            commandName: "retire",
            abstract: "Retire a number: it stays in the catalogue but is no longer offered or routed.",
            discussion: inventoryWriters)

        @OptionGroup var number: NumberArgument
        @Option(help: "Why, for the record.") var reason = ""
        @Option(help: "Fail with ABORTED unless the number is at this version.") var expectedVersion: Int64 = 0
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = InventoryV1.RetireNumberRequest()
            request.id = try await number.id(in: session)
            request.expectedVersion = expectedVersion
            request.reason = reason
            let response = try await session.call(.inventory, "RetireNumber", request, as: InventoryV1.NumberResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { NumberViews.changed(response) }
        }
    }

    struct RestoreNumber: ServiceCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Bring a retired number back into service.",
            discussion: inventoryWriters)

        @OptionGroup var number: NumberArgument
        @Option(help: "Fail with ABORTED unless the number is at this version.") var expectedVersion: Int64 = 0
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = InventoryV1.RestoreNumberRequest()
            request.id = try await number.id(in: session)
            request.expectedVersion = expectedVersion
            let response = try await session.call(.inventory, "RestoreNumber", request, as: InventoryV1.NumberResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { NumberViews.changed(response) }
        }
    }

    struct RotateKeys: ServiceCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-keys",
            abstract: "Re-encrypt every number's credentials with inventory's active key (after adding a key).",
            discussion: "Platform admins only.")

        @Option(help: "Numbers re-encrypted per transaction (0: 500).") var batchSize: UInt32 = 0
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = InventoryV1.RotateCredentialKeysRequest()
            request.batchSize = batchSize
            let response = try await session.call(.inventory, "RotateCredentialKeys", request,
                                                  as: InventoryV1.RotateCredentialKeysResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey, timeout: .minutes(5))
            options.emit(response) {
                var fields = Fields([("active key", response.activeKeyId), ("rotated", String(response.rotated))])
                if !response.failedNumberIds.isEmpty { fields.add("not readable", response.failedNumberIds.joined(separator: ", ")) }
                return fields.render() + "\n" + Format.token(response.consistencyToken)
            }
        }
    }
}

/// "voice,sms" ⇄ Capabilities.
enum CapabilityList {
    static let names = ["voice", "sms", "mms", "fax"]

    static func parse(_ text: String, field: String) throws(RPCError) -> InventoryV1.Capabilities {
        var capabilities = InventoryV1.Capabilities()
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !name.isEmpty {
            switch name {
            case "voice": capabilities.voice = true
            case "sms": capabilities.sms = true
            case "mms": capabilities.mms = true
            case "fax": capabilities.fax = true
            default: throw RPCError.local("'\(name)' is not one of \(names.joined(separator: ", "))", field: field)
            }
        }
        return capabilities
    }
}
