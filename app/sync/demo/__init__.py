"""The demo tenant: one MSP's customers as Pax8, Partner Center and ConnectWise see them.

`plan` says who buys what and which scenario each customer carries, relative to a `today`;
`tenants` turns the plan into seeded Pax8 and ConnectWise sandboxes; `partner_center` writes
the plan's Partner Center recon and daily usage files. The services layer (app.services.demo)
builds the workspace from them.
"""
