// The reference's XML examples (xml-interface.md), byte for byte, shared by the XML tests.

export const ILLUMOS_REQUEST = `<LDM_interface version="1.1">   <cmd>      <action>reg-domain-events</action>      <data version="3.0"> </data>   </cmd></LDM_interface>`;

export const SKELETON_2_2 = `<LDM_interface version="1.0">
  <cmd>
    <action>Place command here</action>
    <option>Place options for certain commands here</option>
    <data version="3.0">
      <Envelope>
        <References/>
        <!-- a <Section> may appear here instead of <Content> -->
        <Content xsi:type="ovf:VirtualSystem_Type" id="Domain name">
          <Section xsi:type="ovf:ResourceAllocationSection_type">
            <Item>
              <rasd:OtherResourceType>LDom Resource Type</rasd:OtherResourceType>
              <gprop:GenericProperty key="Property name">Property Value</gprop:GenericProperty>
            </Item>
          </Section>
          <!-- more <Section>s -->
        </Content>
      </Envelope>
    </data>
    <!-- more <data>s -->
  </cmd>
  <!-- more <cmd>s -->
</LDM_interface>`;

export const REQUEST_3_2_CPU = `<?xml version="1.0"?>
<LDM_interface version="1.3"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xsi:noNamespaceSchemaLocation="./schemas/combined-v3.xsd"
 xmlns:ovf="./schemas/envelope"
 xmlns:rasd="./schemas/CIM_ResourceAllocationSettingData"
 xmlns:vssd="./schemas/CIM_VirtualSystemSettingData"
 xmlns:gprop="./schemas/GenericProperty"
 xmlns:bind="./schemas/Binding">
  <cmd>
    <action>add-vcpu</action>
    <data version="3.0">
      <Envelope>
        <References/>
        <Content xsi:type="ovf:VirtualSystem_Type" ovf:id="ldg1">
          <Section xsi:type="ovf:VirtualHardwareSection_Type">
            <Item>
              <rasd:OtherResourceType>cpu</rasd:OtherResourceType>
              <rasd:AllocationUnits>8</rasd:AllocationUnits>
              <gprop:GenericProperty key="wcore">1</gprop:GenericProperty>
            </Item>
          </Section>
        </Content>
      </Envelope>
    </data>
  </cmd>
</LDM_interface>`;

export const REG_REQUEST = `<LDM_interface version="1.0">
  <cmd>
    <action>reg-domain-events</action>
    <data version="3.0"/>
  </cmd>
</LDM_interface>`;

export const FAILURE_RESPONSE = `<LDM_interface version="1.1">
  <cmd>
    <action>start-domain</action>
    <data version="3.0">
      <Envelope><References/>
        <Content xsi:type="ovf:VirtualSystem_Type" id="nosuch"/>
      </Envelope>
      <response>
        <status>failure</status>
        <resp_msg>…ldmd error text…</resp_msg>
      </response>
    </data>
    <response><status>failure</status></response>
  </cmd>
  <response><status>failure</status></response>
</LDM_interface>`;

export const EVENT_EXAMPLE = `<LDM_event version='1.1'>
  <cmd>
    <action>Event command here</action>
    <data version='3.0'>
      <Envelope>
        <References/>
        <Content xsi:type='ovf:VirtualSystem_Type' ovf:id='ldg1'/>
          <Section xsi:type="ovf:ResourceAllocationSection_type">
            <Item>
              <rasd:OtherResourceType>LDom Resource Type</rasd:OtherResourceType>
              <gprop:GenericProperty key="Property name">Property Value</gprop:GenericProperty>
            </Item>
          </Section>
      </Envelope>
    </data>
  </cmd>
</LDM_event>`;

export const MINIMAL_EVENT = `<LDM_event version='1.1'><cmd><action>start-domain</action><data version='3.0'><Envelope><References/><Content xsi:type='ovf:VirtualSystem_Type' id='ldg1'/></Envelope></data></cmd></LDM_event>`;

export const PROGRESS_CONTENT = `<Content xsi:type="ovf:VirtualSystem_Type" id="ldg1">
  <Section xsi:type="ovf:ResourceAllocationSection_type">
    <Item>
      <rasd:OtherResourceType>ldom_info</rasd:OtherResourceType>
      <gprop:GenericProperty key="progress">45%</gprop:GenericProperty>
      <gprop:GenericProperty key="status">ongoing</gprop:GenericProperty>
      <gprop:GenericProperty key="source">dt90-319</gprop:GenericProperty>
    </Item>
  </Section>
</Content>`;

export const LDOM_INFO_EXAMPLE = `<Envelope>
  <References/>
  <Content xsi:type="ovf:VirtualSystem_Type" id="primary">
    <Section xsi:type="ovf:ResourceAllocationSection_type">
      <Item>
        <rasd:OtherResourceType>ldom_info</rasd:OtherResourceType>
        <rasd:Address>00:03:ba:d8:ba:f6</rasd:Address>
        <gprop:GenericProperty key="hostid">83d8baf6</gprop:GenericProperty>
        <gprop:GenericProperty key="master">plum</gprop:GenericProperty>
        <gprop:GenericProperty key="failure-policy">reset</gprop:GenericProperty>
        <gprop:GenericProperty key="progress">45%</gprop:GenericProperty>
        <gprop:GenericProperty key="status">ongoing</gprop:GenericProperty>
        <gprop:GenericProperty key="source">dt90-319</gprop:GenericProperty>
      </Item>
    </Section>
  </Content>
</Envelope>`;

export const CPU_ITEM = `<Item>
  <rasd:OtherResourceType>cpu</rasd:OtherResourceType>
  <rasd:AllocationUnits>4</rasd:AllocationUnits>
</Item>`;

export const VDS_VOLUME_SECTION = `<Section xsi:type="ovf:VirtualHardwareSection_Type">
  <Item>
    <rasd:OtherResourceType>vds_volume</rasd:OtherResourceType>
    <gprop:GenericProperty key="vol_name">vdsdev0</gprop:GenericProperty>
    <gprop:GenericProperty key="service_name">primary-vds0</gprop:GenericProperty>
    <gprop:GenericProperty key="block_dev">/opt/SUNWldm/domain_disks/testdisk1</gprop:GenericProperty>
    <gprop:GenericProperty key="vol_opts">ro</gprop:GenericProperty>
    <gprop:GenericProperty key="mpgroup">mpgroup-name</gprop:GenericProperty>
  </Item>
</Section>`;

export const NETWORK_ITEM = `<Item>
  <rasd:OtherResourceType>network</rasd:OtherResourceType>
  <gprop:GenericProperty key="linkprop">phys-state</gprop:GenericProperty>
  <gprop:GenericProperty key="vnet_name">ldg1-vnet0</gprop:GenericProperty>
  <gprop:GenericProperty key="service_name">primary-vsw0</gprop:GenericProperty>
  <rasd:Address>00:14:4f:fc:00:01</rasd:Address>
</Item>`;

export const SPCONFIG_ENVELOPE = `<Envelope>
  <Section xsi:type="ovf:ResourceAllocationSection_type">
    <Item>
      <rasd:OtherResourceType>spconfig</rasd:OtherResourceType>
      <gprop:GenericProperty key="spconfig_name">primary</gprop:GenericProperty>
      <gprop:GenericProperty key="spconfig_status">current</gprop:GenericProperty>
    </Item>
  </Section>
</Envelope>`;

export const MIGRATION = `<Envelope>
  <References/>
  <Content xsi:type="ovf:VirtualSystem_Type" ovf:id="ldg1"/>
  <Content xsi:type="ovf:VirtualSystem_Type" ovf:id="ldg1">
    <Section xsi:type="ovf:ResourceAllocationSection_Type">
      <Item>
        <rasd:OtherResourceType>ldom_info</rasd:OtherResourceType>
        <gprop:GenericProperty key="target">target-host</gprop:GenericProperty>
        <gprop:GenericProperty key="username">user-name</gprop:GenericProperty>
        <gprop:GenericProperty key="password">password</gprop:GenericProperty>
      </Item>
    </Section>
  </Content>
</Envelope>`;
